#!/usr/bin/env bash
# Installs, from Debian's archive, the packages sealbench needs that are missing. Idempotent:
# it asks dpkg-query first and installs only what is absent, printing what it installs.
# Uses sudo when not root. `--check-only` installs nothing and exits 1 if anything is missing.
# `make test` and `make experiments` call it (NO_DEPS=1 skips that).
set -euo pipefail

# Build and test: compiler, pkg-config, the three crypto libraries, the JSON reader, and the
# CSV reader and CBOR encoder of the datasets, the
# Mosquitto broker with its command-line clients (tests publish through it independently).
PACKAGES=(
    build-essential
    pkg-config
    libssl-dev
    openssl
    libsodium-dev
    libmbedtls-dev
    libjansson-dev
    libpaho-mqtt-dev
    libcsv-dev
    libcbor-dev
    libinih-dev
    libbenchmark-dev
    libpapi-dev
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
)

missing=()
for p in "${PACKAGES[@]}"; do
    status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
    [ "$status" = "install ok installed" ] || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
    exit 0
fi
if [ "${1:-}" = "--check-only" ]; then
    echo "missing packages: ${missing[*]}"
    exit 1
fi

SUDO=
if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || { echo "install-deps: not root and no sudo; install as root: ${missing[*]}" >&2; exit 1; }
    SUDO=sudo
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
