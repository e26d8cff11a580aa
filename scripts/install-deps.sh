#!/usr/bin/env bash
# Installs, from Debian's archive, the packages a job of sealbench needs that are missing.
# Idempotent: it asks dpkg-query first and installs only what is absent, printing what it
# installs. Uses sudo when not root.
#
#   scripts/install-deps.sh [--check-only] [JOB...] [--cross[=arm64|armhf]]
#
# Each make target asks for its own job (the Makefile's deps-JOB), so that running experiments
# does not pull in TeX Live, Chromium and Ansible:
#   build        compiler, pkg-config and the libraries sealbench links (`make`)
#   experiments  build + the Mosquitto broker + the analysis' Python (`make experiments`,
#                `make analyze`, `make compare`)
#   bench        experiments + the openssl command and Mosquitto's clients (the baselines)
#   paper        the analysis' Python + LaTeX (`make paper`)
#   fleet        rsync, ssh and Ansible (rpi/deploy.sh, rpi/run.sh, the fleet playbook)
#   rpi          experiments + the clients the emulated suite uses (`make rpi-test`, with --cross)
#   test         everything the test suite uses (`make test`): all of the above and Chromium
#   all          every job (the default, and what the Dockerfile installs)
# `--cross` adds the Raspberry Pi cross builds (compilers, qemu-user and the target's libraries:
# `make rpi` asks for `--cross=arm64` or `--cross=armhf`; plain `--cross` is both, in one call).
# `--check-only` installs nothing and exits 1 if anything is missing. NO_DEPS=1 on make skips
# the script entirely.
set -euo pipefail

CHECK_ONLY=0
CROSS_ARCHS=()
JOBS=()
usage() {
    echo "usage: scripts/install-deps.sh [--check-only] [build|experiments|bench|paper|fleet|rpi|test|all ...] [--cross[=arm64|armhf]]" >&2
    exit 2
}
for arg in "$@"; do
    case $arg in
    --check-only) CHECK_ONLY=1 ;;
    --cross) CROSS_ARCHS+=(arm64 armhf) ;;
    --cross=arm64 | --cross=armhf) CROSS_ARCHS+=("${arg#--cross=}") ;;
    build | experiments | bench | paper | fleet | rpi | test | all) JOBS+=("$arg") ;;
    *) usage ;;
    esac
done
# No job named: every job, unless only cross libraries were asked for.
[ ${#JOBS[@]} -gt 0 ] || [ ${#CROSS_ARCHS[@]} -gt 0 ] || JOBS=(all)

# The cipher backends' -dev packages, from ciphers/backends.txt (a line per backend, the file
# the Makefile builds them from); BACKENDS="openssl sodium" asks for those only, as the build.
BACKENDS_FILE=$(dirname "$0")/../ciphers/backends.txt
[ -r "$BACKENDS_FILE" ] || { echo "install-deps: $BACKENDS_FILE is missing" >&2; exit 2; }
BACKEND_DEV=()
while read -r name _link _soname _runtime dev _library; do
    case $name in '' | '#'*) continue ;; esac
    [ -z "${BACKENDS:-}" ] || [[ " $BACKENDS " == *" $name "* ]] || continue
    IFS=, read -ra dev_pkgs <<<"$dev"
    BACKEND_DEV+=("${dev_pkgs[@]}")
done <"$BACKENDS_FILE"

# The libraries sealbench links: the backends' crypto libraries, the JSON reader, Paho, the CSV
# reader and CBOR encoder of the datasets, the config reader, Google Benchmark and PAPI. The
# native build installs them for this machine, a cross build for its target (CROSS_LIBS).
LIBS=(
    "${BACKEND_DEV[@]}"
    libjansson-dev
    libpaho-mqtt-dev
    libcsv-dev
    libcbor-dev
    libinih-dev
    libbenchmark-dev
    libpapi-dev
)

# The packages of each job. A job lists the jobs it contains by name (job_packages expands them).
PKG_build=(build-essential g++ pkg-config "${LIBS[@]}")
# The runner: the private broker, procps (ps, for the broker's CPU) and the analysis, run with
# /usr/bin/python3 on Debian's builds of pandas, matplotlib and scipy (no PyPI).
PKG_analysis=(python3 python3-pandas python3-matplotlib python3-scipy)
PKG_experiments=(@build mosquitto procps @analysis)
# The baselines of `make bench-*`: mosquitto_pub/sub and `openssl speed`.
PKG_bench=(@experiments mosquitto-clients openssl)
# latexmk and the TeX Live packages paper.tex uses.
PKG_paper=(@analysis latexmk texlive-latex-base texlive-latex-recommended texlive-fonts-recommended)
# Boards (rpi/): deploy.sh and run.sh copy with rsync over ssh; the fleet runs on Ansible.
PKG_fleet=(rsync openssh-client ansible)
# The suite under qemu-user: the host's Mosquitto as private broker, its clients and the openssl
# command for the broker and TLS tests, file and binutils for the ELF checks.
PKG_rpi=(@experiments mosquitto-clients openssl file binutils)
# The suite: everything above, poppler-utils (pdftotext reads the built paper) and Chromium
# (report.html rendered headless).
PKG_test=(@bench @paper @fleet @rpi poppler-utils chromium qemu-user)
PKG_all=(@test)

declare -A SEEN=()
job_packages() { # job: its packages, once each
    local -n list="PKG_$1"
    local p
    for p in "${list[@]}"; do
        if [[ $p == @* ]]; then
            job_packages "${p#@}"
        elif [ -z "${SEEN[$p]:-}" ]; then
            SEEN[$p]=1
            echo "$p"
        fi
    done
}
PACKAGES=()
for j in ${JOBS[@]+"${JOBS[@]}"}; do
    while read -r p; do PACKAGES+=("$p"); done < <(job_packages "$j")
done

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

# A private root holds the target's libraries when it lists every one of CROSS_LIBS, and the
# file list that says which package each file came from (older roots lack it: made again).
sysroot_complete() { # Debian architecture
    local stamp=$SYSROOTS/$1/.packages p
    [ -f "$stamp" ] && [ -f "$SYSROOTS/$1/.files" ] || return 1
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

# The package lists of this machine's architecture and, for a cross build, of one foreign
# architecture at a time: apt takes a Release whole, so one index that fails (seen here:
# bookworm-security's armhf Packages.xz of the wrong size on a mirror in mid-sync) would keep
# every architecture's lists of that Release old. A failure is a warning: apt keeps the lists it
# had, and the install that follows says what it cannot find.
#
# An update limited to native + armhf drops the arm64 lists an earlier native + arm64 update
# fetched (apt keeps only the lists of the architectures it was asked for), so each foreign
# architecture's libraries are installed (or downloaded into its private root) right after its
# own update, before the next architecture's: never update both, then install both.
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
if [ ${#missing[@]} -gt 0 ]; then
    apt_update
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
    local a=$1 root=$SYSROOTS/$1 tmp pkgs deb p
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
        # Which package each file came from, as dpkg -S would say: the manifest names the
        # package behind every library a run under qemu loads from this root.
        p=$(dpkg-deb -W --showformat='${Package}' "$deb")
        dpkg-deb --fsys-tarfile "$deb" | tar -t | sed -n "s#^\./\(.*[^/]\)\$#$p:$a\t/\1#p" |
            $SUDO tee -a "$root.new/.files" >/dev/null
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
    apt_update "$a" # this architecture's lists, used at once (see apt_update)
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
