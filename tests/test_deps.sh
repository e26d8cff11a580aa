#!/usr/bin/env bash
# scripts/install-deps.sh without touching this machine: dpkg, dpkg-query and apt-get are
# replaced (PATH) by stand-ins that model what matters, on an empty machine:
#   - each job's package list: `make experiments` must not pull in LaTeX, Chromium or Ansible,
#     and `make test` must get all of them;
#   - apt keeps only the package lists of the architectures its last update was asked for (an
#     update with APT::Architectures = native + armhf drops the arm64 lists), so every
#     pkg:arch install fails "Unable to locate" unless that arch's lists are the current ones.
#     This is how `--cross` (both architectures in one call) failed on a fresh machine; CI runs
#     the real one-call form on a fresh machine too (.ci/run).
# run.sh: native build only
set -u
cd "$(dirname "$0")/.."
NAME=deps
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
. tests/assert.sh

mkdir -p "$TMP/bin" "$TMP/state"
# Nothing installed; dpkg-query answers "not installed" for every package.
cat >"$TMP/bin/dpkg-query" <<'EOF'
#!/usr/bin/env bash
exit 1
EOF
cat >"$TMP/bin/dpkg" <<'EOF'
#!/usr/bin/env bash
S=$STUB_STATE
case $1 in
--print-architecture) echo amd64 ;;
--print-foreign-architectures) cat "$S/foreign" 2>/dev/null ;;
--add-architecture) echo "$2" >>"$S/foreign" ;;
*) echo "dpkg stand-in: $*" >&2; exit 1 ;;
esac
EOF
# apt-get: update remembers the architectures asked for (its lists); install refuses a package
# of an architecture whose lists it does not hold. Every call is logged.
cat >"$TMP/bin/apt-get" <<'EOF'
#!/usr/bin/env bash
S=$STUB_STATE
echo "apt-get $*" >>"$S/log"
archs=() sim=0 pkgs=()
while [ $# -gt 0 ]; do
    case $1 in
    -o) [[ $2 == APT::Architectures::=* ]] && archs+=("${2#APT::Architectures::=}"); shift ;;
    -s) sim=1 ;;
    -*) ;;
    *) pkgs+=("$1") ;;
    esac
    shift
done
case ${pkgs[0]} in
update) printf '%s\n' "${archs[@]}" >"$S/lists" ;;
install)
    for p in "${pkgs[@]:1}"; do
        a=amd64
        [[ $p == *:* ]] && a=${p##*:}
        grep -qx "$a" "$S/lists" 2>/dev/null || { echo "E: Unable to locate package $p"; exit 100; }
    done
    [ $sim = 1 ] || printf '%s\n' "${pkgs[@]:1}" >>"$S/installed" ;;
*) echo "apt-get stand-in: $*" >&2; exit 1 ;;
esac
EOF
chmod +x "$TMP/bin"/*
export STUB_STATE=$TMP/state

deps() { # args: the script's, with the stand-ins first on PATH
    rm -f "$TMP/state"/*
    run env PATH="$TMP/bin:$PATH" SEALBENCH_SYSROOTS="$TMP/sysroot" scripts/install-deps.sh "$@"
}

# ---- each job its own list ----
deps --check-only experiments
expect_rc 1
for p in mosquitto libpaho-mqtt-dev libsodium-dev python3-pandas python3-scipy build-essential; do
    expect_has out " $p"
done
for p in texlive-latex-base latexmk chromium ansible gcc-aarch64-linux-gnu qemu-user; do
    cmd="install-deps.sh --check-only experiments (lacks $p)"
    expect_lacks out " $p"
done
# The backends' -dev packages: those of ciphers/backends.txt, or of BACKENDS only, as the build.
deps --check-only build
for p in $(awk '!/^#/ && NF {gsub(",", " ", $5); print $5}' ciphers/backends.txt); do
    expect_has out " $p"
done
BACKENDS="openssl sodium" deps --check-only build
expect_has out " libsodium-dev"
cmd="BACKENDS=\"openssl sodium\" install-deps.sh --check-only build (lacks libmbedtls-dev)"
expect_lacks out "libmbedtls-dev"
expect_has out " libpaho-mqtt-dev"
deps --check-only paper
expect_has out "latexmk"
expect_lacks out "chromium"
expect_lacks out "libpaho-mqtt-dev"
deps --check-only fleet
expect_re out "^missing packages: rsync openssh-client ansible$"
deps --check-only test
for p in mosquitto-clients texlive-latex-base chromium ansible qemu-user poppler-utils; do
    expect_has out " $p"
done
deps --check-only nonsense
expect_rc 2
expect_has err "usage: scripts/install-deps.sh"

# ---- both architectures in one call, on a machine with no foreign architecture ----
deps rpi --cross
expect_rc 0
expect_lacks out "Unable to locate"
for a in arm64 armhf; do
    grep -qx "libpaho-mqtt-dev:$a" "$TMP/state/installed" 2>/dev/null && ok ||
        bad "libpaho-mqtt-dev:$a installed by one --cross call" "$(tail -n 3 "$TMP/state/log")"
done
[ "$(sort "$TMP/state/foreign" 2>/dev/null | tr '\n' ' ')" = "arm64 armhf " ] && ok ||
    bad "both foreign architectures added" "$(cat "$TMP/state/foreign" 2>&1)"
# Each architecture's install comes right after its own update, before the next update.
order=$(grep -v -- ' -s ' "$TMP/state/log" | grep -oE 'update.*APT::Architectures::=(arm64|armhf)|install.*libc6:(arm64|armhf)' |
    sed -E 's/.*(arm64|armhf).*/\1/' | tr '\n' ' ')
cmd="order of the cross updates and installs"
[ "$order" = "arm64 arm64 armhf armhf " ] && ok || bad "update arm64, install arm64, update armhf, install armhf" "$order"

totals
[ "$failed" -eq 0 ]
