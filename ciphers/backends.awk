# ciphers/backends.txt -> the C registry's list (build/<build>/gen/sb_backends.h), run by the
# Makefile with built = " openssl sodium " (BACKENDS, blank-padded) and list = BACKENDS.
BEGIN {
    print "/* Made by the Makefile from ciphers/backends.txt and BACKENDS: do not edit. */"
    printf "#define SB_BACKENDS_BUILT \"%s\"\n", list
    print "#define SB_BACKEND_LIST \\"
}
!/^#/ && NF {
    library = $6 # the rest of the line: the name may hold blanks
    for (i = 7; i <= NF; i++)
        library = library " " $i
    printf "    SB_BACKEND(%s, \"%s\", \"%s\", %d) \\\n", $1, library, $3,
           (index(built, " " $1 " ") > 0)
}
END { print "    /* end of the list */" }
