#!/usr/bin/env bash
# rpi/deploy.sh: puts sealbench on a board over ssh and rsync: the binary built for the board's
# architecture (build/aarch64/ or build/armhf/, from `make rpi`), the experiment configs and the
# shipped datasets, into ~/sealbench; then runs ldd there and names, for every shared library the
# binary cannot find, the Debian package to install. rpi/run.sh sources this file for its helpers
# (the board probe, ssh and rsync with their overrides, dry-run printing); main runs only when the
# file is executed. Usage and options: rpi/deploy.sh --help.
set -euo pipefail

SB_REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SB_PROG=${SB_PROG:-deploy}
SB_DRY_RUN=0
# SSH and RSYNC may hold options ("ssh -p 2222 -i key"); tests put a local stand-in there.
read -r -a SSH_CMD <<<"${SSH:-ssh}"
read -r -a RSYNC_CMD <<<"${RSYNC:-rsync}"

# ---- messages and commands ---------------------------------------------------------------------

say() { printf '%s: %s\n' "$SB_PROG" "$*" >&2; }

# die STATUS WHAT [WHAT TO DO...]: one line saying what went wrong (and where), then what to do.
die() {
    local status=$1
    shift
    local line
    for line in "$@"; do say "$line"; done
    exit "$status"
}

usage_error() { die 2 "$1" "see '$0 --help'"; }

# The command as a shell would read it, for --dry-run and for error messages.
quoted() {
    local out="" a
    for a in "$@"; do
        if [[ $a =~ ^[A-Za-z0-9_./:=@%+,-]+$ ]]; then
            out+=" $a"
        else
            out+=" '${a//\'/\'\\\'\'}'"
        fi
    done
    printf '%s' "${out# }"
}

# Runs a command, or under --dry-run prints it on stdout ("+ cmd").
do_cmd() {
    if [ "$SB_DRY_RUN" = 1 ]; then
        printf '+ %s\n' "$(quoted "$@")"
        return 0
    fi
    "$@"
}

# remote HOST SCRIPT: SCRIPT run by the board's shell, in the login's home folder.
remote() {
    "${SSH_CMD[@]}" "$1" "$2"
}

have() { command -v "$1" >/dev/null 2>&1; }

# A folder on the board: relative paths are taken from the home folder by ssh and rsync alike;
# "~/x" is made relative so that it need not survive two shells' quoting.
remote_dir_norm() {
    local d=$1
    case $d in
        "~") d=. ;;
        "~/"*) d=${d#"~/"} ;;
    esac
    [ -n "$d" ] || d=.
    printf '%s' "$d"
}

remote_dir_shown() {
    case $1 in
        /*) printf '%s' "$1" ;;
        .) printf '~' ;;
        *) printf '~/%s' "$1" ;;
    esac
}

# What the board is: one ssh round trip, key=value lines into BOARD[...].
declare -A BOARD=()
BOARD_PROBE='
printf "dpkg_arch=%s\n" "$(dpkg --print-architecture 2>/dev/null)"
printf "uname_m=%s\n" "$(uname -m)"
printf "hostname=%s\n" "$(hostname 2>/dev/null || uname -n)"
if [ -r /proc/device-tree/model ]; then
    printf "model=%s\n" "$(tr -d "\000" </proc/device-tree/model)"
elif [ -r /sys/class/dmi/id/product_name ]; then
    printf "model=%s %s (DMI; no /proc/device-tree/model)\n" "$(cat /sys/class/dmi/id/sys_vendor 2>/dev/null)" "$(cat /sys/class/dmi/id/product_name)"
else
    printf "model=unknown (no /proc/device-tree/model)\n"
fi
printf "kernel=%s\n" "$(uname -r)"
printf "os=%s\n" "$(. /etc/os-release 2>/dev/null && echo "$PRETTY_NAME")"
printf "cpus=%s\n" "$(nproc 2>/dev/null)"
printf "governor=%s\n" "$(cat /sys/devices/system/cpu/cpu0/cpufreq/scaling_governor 2>/dev/null || echo "none (no cpufreq)")"
if command -v vcgencmd >/dev/null 2>&1; then
    printf "throttled=%s\n" "$(vcgencmd get_throttled 2>&1 | sed "s/^throttled=//")"
else
    printf "throttled=unknown (no vcgencmd)\n"
fi
command -v rsync >/dev/null 2>&1 && echo rsync=yes || echo rsync=no
{ [ -x /usr/sbin/mosquitto ] || command -v mosquitto >/dev/null 2>&1; } && echo mosquitto=yes || echo mosquitto=no
'

probe_board() {
    local host=$1 out line
    if ! out=$(remote "$host" "$BOARD_PROBE" 2>&1); then
        die 1 "cannot reach $host over ssh ($(quoted "${SSH_CMD[@]}") $host): $(tail -n 1 <<<"$out")" \
            "check that 'ssh $host true' works without a password (ssh-copy-id $host), or set SSH"
    fi
    BOARD=()
    while IFS= read -r line; do
        case $line in
            *=*) BOARD[${line%%=*}]=${line#*=} ;;
        esac
    done <<<"$out"
    [ -n "${BOARD[uname_m]:-}" ] || die 1 "$host answered, but not with what the probe prints: $(tail -n 1 <<<"$out")" \
        "check that the login shell there is sh-compatible and prints nothing itself"
    BOARD[name]=$(printf '%s' "${BOARD[hostname]:-$host}" | tr -c 'A-Za-z0-9_.-' '_')
}

# ---- architectures -----------------------------------------------------------------------------

# Debian's name for an architecture, from dpkg --print-architecture or uname -m.
arch_norm() {
    case $1 in
        arm64 | aarch64) echo arm64 ;;
        armhf | armv7l | armv7 | armv8l) echo armhf ;;
        armv6l | armel) echo armv6 ;;
        amd64 | x86_64) echo amd64 ;;
        *) echo "$1" ;;
    esac
}

# The binary `make` builds for an architecture (rpi/rpi.mk: make rpi, make rpi TARGET=armhf).
arch_binary() {
    case $1 in
        arm64) echo "$SB_REPO/build/aarch64/sealbench" ;;
        armhf) echo "$SB_REPO/build/armhf/sealbench" ;;
        amd64) echo "$SB_REPO/build/native/sealbench" ;;
    esac
}

arch_make() {
    case $1 in
        arm64) echo "make rpi" ;;
        armhf) echo "make rpi TARGET=armhf" ;;
        amd64) echo "make (on an x86-64 Debian 12)" ;;
    esac
}

# ELF e_machine: 183 AArch64, 40 ARM, 62 x86-64.
arch_elf_machine() {
    case $1 in
        arm64) echo 183 ;;
        armhf) echo 40 ;;
        amd64) echo 62 ;;
    esac
}

elf_machine_name() {
    case $1 in
        183) echo "AArch64 (arm64)" ;;
        40) echo "32-bit ARM (armhf)" ;;
        62) echo "x86-64 (amd64)" ;;
        *) echo "ELF machine $1" ;;
    esac
}

# Refuses a binary that is not an ELF executable for ARCH (a native build sent to a Pi would only
# fail there, as "cannot execute binary file").
check_binary() {
    local bin=$1 arch=$2 magic machine want
    [ -f "$bin" ] || die 1 "$(rel "$bin") not found: the $arch binary is not built" \
        "build it with '$(arch_make "$arch")', or give --binary FILE"
    magic=$(od -An -c -N 4 "$bin" | tr -d ' ')
    [ "$magic" = '177ELF' ] || die 1 "$(rel "$bin") is not an ELF executable" "give the sealbench binary built for $arch"
    machine=$(od -An -t u2 -j 18 -N 2 "$bin" | tr -d ' ')
    want=$(arch_elf_machine "$arch")
    [ "$machine" = "$want" ] || die 1 "$(rel "$bin") is $(elf_machine_name "$machine") code, but the board runs $arch" \
        "build the board's binary with '$(arch_make "$arch")', or give --arch to say what the board runs"
}

rel() {
    case $1 in
        "$SB_REPO"/*) printf '%s' "${1#"$SB_REPO"/}" ;;
        *) printf '%s' "$1" ;;
    esac
}

# ---- shared libraries --------------------------------------------------------------------------

# Debian bookworm's runtime package for each library sealbench links (the -dev packages of
# scripts/install-deps.sh depend on these; Raspberry Pi OS uses the same names): the cipher
# backends' from ciphers/backends.txt, every other one here.
lib_package() {
    local name _link soname runtime _rest
    while read -r name _link soname runtime _rest; do
        case $name in '' | '#'*) continue ;; esac
        [ "$soname" != "$1" ] || { echo "$runtime"; return; }
    done <"$SB_REPO/ciphers/backends.txt"
    case $1 in
        libssl.so.3) echo libssl3 ;; # Paho's TLS build loads it (and libcrypto) itself
        libmbedtls.so.14) echo libmbedtls14 ;;
        libmbedx509.so.1) echo libmbedx509-1 ;;
        libjansson.so.4) echo libjansson4 ;;
        libpaho-mqtt3as.so.1 | libpaho-mqtt3a.so.1 | libpaho-mqtt3c.so.1 | libpaho-mqtt3cs.so.1) echo libpaho-mqtt1.3 ;;
        libcsv.so.3) echo libcsv3 ;;
        libcbor.so.0.8) echo libcbor0.8 ;;
        libinih.so.1) echo libinih1 ;;
        libbenchmark.so.1debian) echo libbenchmark1debian ;;
        libpapi.so.7.0) echo libpapi7.0 ;;
        libsde.so.1) echo libsde1 ;;
        libpfm.so.4) echo libpfm4 ;;
        libstdc++.so.6) echo libstdc++6 ;;
        libgcc_s.so.1) echo libgcc-s1 ;;
        libc.so.6 | libm.so.6 | libpthread.so.0 | libdl.so.2 | ld-linux-*) echo libc6 ;;
        libasan.so.8) echo libasan8 ;; # a SANITIZE=1 build
        libubsan.so.1) echo libubsan1 ;;
        *) echo "" ;;
    esac
}

# ldd's output on stdin; one "soname package" line per library not found ("?" when the package
# is not known here).
libs_missing() {
    local line lib pkg
    while IFS= read -r line; do
        if [[ $line =~ ^[[:space:]]*([^[:space:]]+)[[:space:]]+=\>[[:space:]]+not\ found ]]; then
            lib=${BASH_REMATCH[1]}
            pkg=$(lib_package "$lib")
            printf '%s %s\n' "$lib" "${pkg:-?}"
        fi
    done
}

# Prints what is missing and the apt-get line that installs it; returns 1 if anything is.
report_missing() {
    local host=$1 missing=$2 lib pkg pkgs=() n
    [ -z "$missing" ] && return 0
    n=$(grep -c '' <<<"$missing")
    if [ "$n" = 1 ]; then
        say "$host lacks 1 shared library that sealbench needs:"
    else
        say "$host lacks $n shared libraries that sealbench needs:"
    fi
    while read -r lib pkg; do
        if [ "$pkg" = "?" ]; then
            printf '  %-28s (no Debian package known to deploy.sh: apt-file search %s)\n' "$lib" "$lib" >&2
        else
            printf '  %-28s from %s\n' "$lib" "$pkg" >&2
            [[ " ${pkgs[*]} " == *" $pkg "* ]] || pkgs+=("$pkg")
        fi
    done <<<"$missing"
    if [ ${#pkgs[@]} -gt 0 ]; then
        say "install them there: ssh $host sudo apt-get install -y ${pkgs[*]}"
        say "(or run this again with --install; a fully static build is not possible with Debian's packages: see rpi/README.md)"
    fi
    return 1
}

# ---- deploy ------------------------------------------------------------------------------------

deploy_usage() {
    cat <<EOF
usage: rpi/deploy.sh [OPTIONS] HOST

Copies to HOST (an ssh destination: user@host, a Host of ~/.ssh/config, or localhost) the
sealbench binary built for the board's architecture, experiments/configs/ and the shipped
datasets (datasets/*.csv, *.dataset), into ~/sealbench; then runs ldd on the copied binary
there, lists every shared library it cannot find with the Debian package that has it and the
apt-get line to install them, and checks that the binary starts ('sealbench list').

The architecture is the board's 'dpkg --print-architecture' (its userland: a 32-bit Raspberry
Pi OS on a 64-bit kernel is armhf), else its 'uname -m':
  arm64 (aarch64)  build/aarch64/sealbench   make rpi
  armhf (armv7l)   build/armhf/sealbench     make rpi TARGET=armhf
  amd64 (x86_64)   build/native/sealbench    make

Options:
  --arch A          arm64, armhf or amd64 (or aarch64, armv7l, x86_64): do not ask the board
  --binary FILE     copy FILE instead of the architecture's build (checked: ELF of that arch)
  --dir DIR         folder on the board (default ~/sealbench; relative to the login's home)
  --install         install the missing packages there (ssh -t HOST sudo apt-get install ...)
  --no-check        copy only: no ldd, no 'sealbench list'
  --libs-to-packages
                    read ldd output on stdin and print 'library package' for each library
                    not found, then exit (the Ansible playbook uses it)
  --dry-run         print the commands instead of running them
  --help            this text

Environment: SSH (default ssh) and RSYNC (default rsync) name the commands used, with any
options ("ssh -p 2222"); rsync is given -e "\$SSH".

Exit status: 0 copied and every library found; 1 a library missing or a step failed (the line
says which, where, and what to do); 2 a usage error.
EOF
}

deploy_main() {
    local arch="" binary="" dir=sealbench install=0 check=1 host="" a
    while [ $# -gt 0 ]; do
        case $1 in
            --help | -h) deploy_usage; exit 0 ;;
            --arch) [ $# -ge 2 ] || usage_error "--arch needs a value"; arch=$2; shift 2 ;;
            --arch=*) arch=${1#*=}; shift ;;
            --binary) [ $# -ge 2 ] || usage_error "--binary needs a value"; binary=$2; shift 2 ;;
            --binary=*) binary=${1#*=}; shift ;;
            --dir) [ $# -ge 2 ] || usage_error "--dir needs a value"; dir=$2; shift 2 ;;
            --dir=*) dir=${1#*=}; shift ;;
            --install) install=1; shift ;;
            --no-check) check=0; shift ;;
            --dry-run) SB_DRY_RUN=1; shift ;;
            --libs-to-packages) libs_missing; exit 0 ;;
            --) shift; break ;;
            -*) usage_error "unknown option '$1'" ;;
            *) [ -z "$host" ] || usage_error "one HOST only (got '$host' and '$1')"; host=$1; shift ;;
        esac
    done
    if [ $# -gt 0 ]; then
        [ -z "$host" ] && [ $# -eq 1 ] || usage_error "one HOST only"
        host=$1
    fi
    [ -n "$host" ] || usage_error "which board? give HOST (an ssh destination)"
    dir=$(remote_dir_norm "$dir")
    local shown
    shown=$(remote_dir_shown "$dir")
    local qdir
    qdir=$(printf '%q' "$dir")

    if [ "$SB_DRY_RUN" = 0 ]; then
        have "${RSYNC_CMD[0]}" || die 1 "'${RSYNC_CMD[0]}' not found on this machine (deploy copies with rsync)" \
            "install it: sudo apt-get install rsync (or set RSYNC)"
        have "${SSH_CMD[0]}" || die 1 "'${SSH_CMD[0]}' not found on this machine" \
            "install it: sudo apt-get install openssh-client (or set SSH)"
    fi

    # Which binary: the board says, unless --arch does.
    if [ -n "$arch" ]; then
        arch=$(arch_norm "$arch")
        if [ "$SB_DRY_RUN" = 0 ]; then probe_board "$host"; fi
    elif [ "$SB_DRY_RUN" = 1 ]; then
        printf '+ %s  # the board says its architecture\n' "$(quoted "${SSH_CMD[@]}" "$host" 'dpkg --print-architecture || uname -m')"
        arch="<arch>"
    else
        probe_board "$host"
        arch=$(arch_norm "${BOARD[dpkg_arch]:-${BOARD[uname_m]}}")
    fi
    case $arch in
        arm64 | armhf | amd64 | "<arch>") ;;
        armv6) die 1 "$host is an ARMv6 board (${BOARD[uname_m]:-armv6l}: Pi Zero or Pi 1)" \
            "Debian's armhf cross compiler emits ARMv7 code, which does not run there; use a Pi 2 or later" ;;
        *) die 1 "$host runs '$arch', for which sealbench has no build" \
            "use --arch arm64|armhf|amd64 with a matching --binary, or add a target to rpi/rpi.mk (rpi/README.md)" ;;
    esac
    if [ "$SB_DRY_RUN" = 0 ] && [ "${BOARD[rsync]:-yes}" = no ]; then
        die 1 "rsync is not installed on $host (rsync runs at both ends)" "install it there: ssh $host sudo apt-get install -y rsync"
    fi
    if [ -z "$binary" ]; then
        if [ "$arch" = "<arch>" ]; then binary="build/<aarch64|armhf>/sealbench"; else binary=$(arch_binary "$arch"); fi
    fi
    [ "$arch" = "<arch>" ] || check_binary "$binary" "$arch"

    local datasets=()
    for a in "$SB_REPO"/datasets/*.csv "$SB_REPO"/datasets/*.dataset "$SB_REPO"/datasets/DATACARD.md; do
        [ -f "$a" ] && datasets+=("$a")
    done
    [ ${#datasets[@]} -gt 0 ] || die 1 "no dataset files in $SB_REPO/datasets/" "check out the repository whole"
    local configs=("$SB_REPO"/experiments/configs/*.ini)
    [ -f "${configs[0]}" ] || die 1 "no configs in $SB_REPO/experiments/configs/" "check out the repository whole"

    do_cmd "${SSH_CMD[@]}" "$host" "mkdir -p $qdir/experiments/configs $qdir/datasets $qdir/results" ||
        die 1 "could not make $shown on $host" "check the disk there (df -h) and that the login may write its home"
    local ssh_e
    ssh_e=$(quoted "${SSH_CMD[@]}")
    do_cmd "${RSYNC_CMD[@]}" -a -e "$ssh_e" "$binary" "$host:$dir/sealbench" ||
        die 1 "copying $(rel "$binary") to $host:$shown failed (rsync above)" "check the disk there (df -h)"
    do_cmd "${RSYNC_CMD[@]}" -a --delete -e "$ssh_e" "$SB_REPO/experiments/configs/" "$host:$dir/experiments/configs/" ||
        die 1 "copying experiments/configs/ to $host:$shown failed (rsync above)" "check the disk there (df -h)"
    do_cmd "${RSYNC_CMD[@]}" -a -e "$ssh_e" "${datasets[@]}" "$host:$dir/datasets/" ||
        die 1 "copying the datasets to $host:$shown failed (rsync above)" "check the disk there (df -h)"

    # What was deployed, for run.sh's board.txt.
    local sum describe
    if [ "$SB_DRY_RUN" = 0 ]; then
        sum=$(sha256sum "$binary" | cut -d' ' -f1)
        describe=$(git -C "$SB_REPO" describe --always --dirty --tags 2>/dev/null || echo unknown)
        printf 'binary %s\nsha256 %s\narch %s\ngit %s\ndeployed %s\nfrom %s\n' "$(rel "$binary")" "$sum" "$arch" \
            "$describe" "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$(hostname)" |
            remote "$host" "cat > $qdir/deployed.txt"
    else
        printf '+ %s < (deployed.txt: binary, sha256, arch, git describe, time)\n' "$(quoted "${SSH_CMD[@]}" "$host" "cat > $qdir/deployed.txt")"
    fi

    if [ "$check" = 0 ]; then
        say "$host: $(rel "$binary") ($arch), ${#configs[@]} configs and ${#datasets[@]} dataset files in $shown (not checked: --no-check)"
        return 0
    fi
    if [ "$SB_DRY_RUN" = 1 ]; then
        do_cmd "${SSH_CMD[@]}" "$host" "ldd $qdir/sealbench"
        do_cmd "${SSH_CMD[@]}" "$host" "$qdir/sealbench list"
        return 0
    fi

    local ldd_out missing
    ldd_out=$(remote "$host" "ldd $qdir/sealbench" 2>&1) || true
    if grep -q 'not a dynamic executable' <<<"$ldd_out"; then
        missing=""
    else
        missing=$(libs_missing <<<"$ldd_out")
    fi
    if [ -n "$missing" ] && [ "$install" = 1 ]; then
        local pkgs
        pkgs=$(awk '$2 != "?" {print $2}' <<<"$missing" | sort -u | tr '\n' ' ')
        [ "${BOARD[mosquitto]:-yes}" = no ] && pkgs+="mosquitto"
        say "$host: installing ${pkgs}"
        "${SSH_CMD[@]}" -t "$host" "sudo apt-get update -qq && sudo apt-get install -y $pkgs" ||
            die 1 "apt-get install on $host failed (output above)" "log in and run: sudo apt-get install -y $pkgs"
        ldd_out=$(remote "$host" "ldd $qdir/sealbench" 2>&1) || true
        missing=$(libs_missing <<<"$ldd_out")
    fi
    if ! report_missing "$host" "$missing"; then
        exit 1
    fi
    local list_out
    if ! list_out=$(remote "$host" "$qdir/sealbench list" 2>&1); then
        die 1 "$shown/sealbench copied to $host but does not run there: $(tail -n 1 <<<"$list_out")" \
            "run 'ssh $host $shown/sealbench list' to see why (a library too old? build on the board's release)"
    fi
    if [ "${BOARD[mosquitto]:-}" = no ]; then
        say "note: $host has no mosquitto; 'rpi/run.sh --mode board' needs it: ssh $host sudo apt-get install -y mosquitto (--mode device does not)"
    fi
    say "$host (${BOARD[model]:-model unknown}, $arch): $(rel "$binary"), ${#configs[@]} configs and ${#datasets[@]} dataset files in $shown; every library found, sealbench runs"
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
    deploy_main "$@"
fi
