#!/usr/bin/env bash
# Installs, from Debian's archive, the packages sealbench needs that are missing. Idempotent:
# it asks dpkg-query first and installs only what is absent, printing what it installs.
# Uses sudo when not root. `--check-only` installs nothing and exits 1 if anything is missing.
# `make test` and `make experiments` call it (NO_DEPS=1 skips that). `--cross` adds what the
# Raspberry Pi cross builds need (rpi/rpi.mk: `make rpi` and `make rpi-test` call it with
# `--cross=arm64` or `--cross=armhf`; plain `--cross` is both).
set -euo pipefail

CHECK_ONLY=0
CROSS_ARCHS=()
for arg in "$@"; do
    case $arg in
    --check-only) CHECK_ONLY=1 ;;
    --cross) CROSS_ARCHS=(arm64 armhf) ;;
    --cross=arm64 | --cross=armhf) CROSS_ARCHS+=("${arg#--cross=}") ;;
    *)
        echo "usage: scripts/install-deps.sh [--check-only] [--cross[=arm64|armhf]]" >&2
        exit 2
        ;;
    esac
done

# The libraries sealbench links: the three crypto libraries, the JSON reader, Paho, the CSV
# reader and CBOR encoder of the datasets, the config reader, Google Benchmark and PAPI. The
# native build installs them for this machine, a cross build for its target (CROSS_LIBS).
LIBS=(
    libssl-dev
    libsodium-dev
    libmbedtls-dev
    libjansson-dev
    libpaho-mqtt-dev
    libcsv-dev
    libcbor-dev
    libinih-dev
    libbenchmark-dev
    libpapi-dev
)

# Build and test: compiler, pkg-config, the libraries, the openssl command, the Mosquitto
# broker with its command-line clients (tests publish through it independently).
PACKAGES=(
    build-essential
    pkg-config
    "${LIBS[@]}"
    openssl
    g++
    mosquitto
    mosquitto-clients
    procps
    python3
    # Analysis (run with /usr/bin/python3: Debian's builds of these, no PyPI), the paper
    # (latexmk and the TeX Live packages it uses), and the report page's headless-browser test.
    python3-pandas
    python3-matplotlib
    python3-scipy
    latexmk
    texlive-latex-base
    texlive-latex-recommended
    texlive-fonts-recommended
    poppler-utils
    chromium
    # Boards (rpi/): deploy.sh and run.sh copy with rsync over ssh; the fleet runs on Ansible.
    rsync
    openssh-client
    ansible
)

# The cross builds, per Debian architecture: the cross compilers and qemu-user (packages of this
# machine's architecture), and the target's libraries: the -dev packages above, of the target's
# architecture (multiarch), with libc6 for its loader (qemu-user runs the ARM binaries with it).
cross_tools() { # Debian architecture
    case $1 in
    arm64) echo gcc-aarch64-linux-gnu g++-aarch64-linux-gnu ;;
    armhf) echo gcc-arm-linux-gnueabihf g++-arm-linux-gnueabihf ;;
    esac
    echo qemu-user file binutils
}
CROSS_LIBS=(libc6 "${LIBS[@]}")
# Where the target's libraries are unpacked when dpkg cannot install them (below); rpi/rpi.mk
# reads the same place.
SYSROOTS=${SEALBENCH_SYSROOTS:-/opt/sealbench/sysroot}

# A bare name means this machine's architecture (or all): once a library is installed for two
# architectures, dpkg-query answers a bare name once for each.
NATIVE=$(dpkg --print-architecture)
installed() { # package, or package:arch
    if [[ $1 == *:* ]]; then
        [ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null || true)" = "install ok installed" ]
    else
        local st
        st=$(dpkg-query -W -f='${Status} ${Architecture}\n' "$1" 2>/dev/null || true)
        grep -qxE "install ok installed ($NATIVE|all)" <<<"$st"
    fi
}

# A private root holds the target's libraries when it lists every one of CROSS_LIBS.
sysroot_complete() { # Debian architecture
    local stamp=$SYSROOTS/$1/.packages p
    [ -f "$stamp" ] || return 1
    for p in "${CROSS_LIBS[@]}"; do
        grep -q "^$p:$1 " "$stamp" || return 1
    done
}

missing=()
for p in "${PACKAGES[@]}"; do
    installed "$p" || missing+=("$p")
done
cross_todo=()
for a in ${CROSS_ARCHS[@]+"${CROSS_ARCHS[@]}"}; do
    for p in $(cross_tools "$a"); do
        installed "$p" || [[ " ${missing[*]} " == *" $p "* ]] || missing+=("$p")
    done
    libs_missing=0
    for p in "${CROSS_LIBS[@]}"; do
        installed "$p:$a" || libs_missing=1
    done
    if [ $libs_missing = 1 ] && ! sysroot_complete "$a"; then
        cross_todo+=("$a")
    fi
done

if [ ${#missing[@]} -eq 0 ] && [ ${#cross_todo[@]} -eq 0 ]; then
    exit 0
fi
if [ $CHECK_ONLY = 1 ]; then
    [ ${#missing[@]} -eq 0 ] || echo "missing packages: ${missing[*]}"
    for a in ${cross_todo[@]+"${cross_todo[@]}"}; do
        echo "missing: the $a libraries of the cross build (${CROSS_LIBS[*]/%/:$a})"
    done
    exit 1
fi

SUDO=
if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || { echo "install-deps: not root and no sudo; install as root: ${missing[*]} ${cross_todo[*]/#/libraries of }" >&2; exit 1; }
    SUDO=sudo
fi
export DEBIAN_FRONTEND=noninteractive

# The package lists of this machine's architecture and of the given foreign ones, one foreign
# architecture at a time: apt takes a Release whole, so one index that fails (seen here:
# bookworm-security's armhf Packages.xz of the wrong size on a mirror in mid-sync) would keep
# every architecture's lists of that Release old. A failure is a warning: apt keeps the lists it
# had, and the install that follows says what it cannot find.
apt_update() { # [foreign architecture]
    local opts=(-o "APT::Architectures::=$NATIVE")
    [ $# -eq 0 ] || opts+=(-o "APT::Architectures::=$1")
    $SUDO apt-get update -qq "${opts[@]}" ||
        echo "install-deps: apt-get update${1:+ for $1} failed (above); going on with the package lists apt has" >&2
}

for a in ${cross_todo[@]+"${cross_todo[@]}"}; do
    if ! dpkg --print-foreign-architectures | grep -qx "$a"; then
        echo "install-deps: dpkg --add-architecture $a"
        $SUDO dpkg --add-architecture "$a"
    fi
done
apt_update
for a in ${cross_todo[@]+"${cross_todo[@]}"}; do
    apt_update "$a"
done
if [ ${#missing[@]} -gt 0 ]; then
    echo "install-deps: installing ${missing[*]}"
    $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# The target's libraries. Every one is Multi-Arch: same, which lets dpkg install it beside this
# machine's, but only at the same version on both: when the archive has a library at another
# version for the target (a security update not yet on the mirror for that architecture),
# dpkg cannot hold both. Then the target's packages, the same .debs (apt-get download, from the
# archive), with every library they depend on, are unpacked into $SYSROOTS/<arch> instead: the
# headers of a -dev package are not borrowed from this machine's, since some are per
# architecture (OpenSSL's configuration.h). The cross build compiles against that root, and
# qemu-user runs the binaries with it as their root (QEMU_LD_PREFIX), loader and libc included.
unpack_sysroot() { # Debian architecture
    local a=$1 root=$SYSROOTS/$1 tmp pkgs deb
    tmp=$(mktemp -d)
    chmod 777 "$tmp" # apt-get download, run as root, writes as _apt
    pkgs=$(apt-cache depends --recurse --no-recommends --no-suggests --no-conflicts --no-breaks \
        --no-replaces --no-enhances "${CROSS_LIBS[@]/%/:$a}" | grep "^[^ <].*:$a\$" | sort -u)
    echo "install-deps: unpacking into $root:" $pkgs
    (cd "$tmp" && apt-get download -qq $pkgs) || { rm -rf "$tmp"; return 1; }
    $SUDO rm -rf "$root.new"
    $SUDO mkdir -p "$root.new"
    for deb in "$tmp"/*.deb; do
        $SUDO dpkg-deb -x "$deb" "$root.new"
        dpkg-deb -W --showformat="\${Package}:$a \${Version}\n" "$deb" | $SUDO tee -a "$root.new/.packages" >/dev/null
    done
    # Absolute links point into this machine's root; inside the private one they must not.
    find "$root.new" -type l -lname '/*' | while read -r link; do
        $SUDO ln -sfn "$root$(readlink "$link")" "$link"
    done
    $SUDO rm -rf "$root"
    $SUDO mv "$root.new" "$root"
    rm -rf "$tmp"
}

for a in ${cross_todo[@]+"${cross_todo[@]}"}; do
    libs=("${CROSS_LIBS[@]/%/:$a}")
    if $SUDO apt-get install -s -qq --no-install-recommends "${libs[@]}" >/dev/null 2>&1; then
        echo "install-deps: installing ${libs[*]}"
        $SUDO apt-get install -y -qq --no-install-recommends "${libs[@]}"
        $SUDO rm -rf "${SYSROOTS:?}/$a" # dpkg holds them now: no stale private root
    else
        echo "install-deps: dpkg cannot install the $a libraries beside the $NATIVE ones (Multi-Arch: same needs one version of each on both; apt-get says:)"
        $SUDO apt-get install -s --no-install-recommends "${libs[@]}" 2>&1 | grep -E '^ +[^ ].* : |^E:' | sed 's/^ */    /' || true
        unpack_sysroot "$a"
    fi
done
