/* UTF-8 validation, a leaf that the CSV reader (a file's bytes) and the value parser (a text
 * field) share. */
#ifndef SB_COMMON_UTF8_H
#define SB_COMMON_UTF8_H

#include <stddef.h>

/* Length of the longest valid UTF-8 prefix of s (RFC 3629: no overlong forms, no surrogates,
 * nothing above U+10FFFF). *nul is set when the first bad byte is a NUL; *partial to the
 * length of a sequence cut short by the end of s (0 if none). */
size_t sb_utf8_prefix(const unsigned char *s, size_t len, int *nul, size_t *partial);

#endif
