#!/usr/bin/env bash
# The microbenchmarks against an outside yardstick: sealbench's OpenSSL seal (p50 ns per message
# from `sealbench micro`) beside `openssl speed -evp CIPHER -aead -bytes N` (its bytes per second
# turned into ns per message), for AES-128-GCM, AES-256-GCM and ChaCha20-Poly1305 at 16 B to
# 16 KiB; and the repetition-to-repetition spread (cv_pct) of a default-length `sealbench micro
# --backend openssl --repetitions 10` run.
#
# The two tools do not do the same work per message, so the ratio is a sanity check, not a
# verdict. Our seal keeps the key schedule in its context, sets the nonce, feeds a 35-byte AAD
# (14-byte header + topic), encrypts and writes the tag. OpenSSL 3.x's apps/speed.c, for the
# GCM family, re-sets key and IV with EVP_CipherInit_ex for every message (a key schedule per
# message) and feeds a 13-byte AAD: expect ratios below 1 for small messages and near 1 at
# 16 KiB. For ChaCha20-Poly1305 speed.c does not take its AEAD path at all (its test is on the
# GCM/CCM/OCB/SIV modes): it times EVP_EncryptUpdate on a running stream, with no nonce, AAD,
# finalisation or tag per message, so small messages look several times cheaper there than any
# complete AEAD call can be.
#
# Writes OUTDIR/micro_vs_openssl.csv (cipher,bytes,sealbench_ns_p50,openssl_speed_ns,ratio)
# and OUTDIR/micro_cv.csv (op,suite,group,bytes,repetitions,ns_p50,ns_min,ns_max,cv_pct), and
# prints both. Takes about two minutes.
#
# Usage: tests/bench/micro_openssl.sh [BIN] [OUTDIR]
set -euo pipefail
cd "$(dirname "$0")/../.."
BIN=${1:-build/native/sealbench}
OUTDIR=${2:-results/bench}
CIPHERS="aes-128-gcm aes-256-gcm chacha20-poly1305"
SIZES="16 64 256 1024 16384"
mkdir -p "$OUTDIR"
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT INT TERM

# ---- sealbench seal vs openssl speed --------------------------------------------------------

"$BIN" micro --backend openssl --suite "${CIPHERS// /,}" --ops seal --sizes "${SIZES// /,}" \
    --repetitions 10 --min-time 0.1 --no-counters --out "$WORK/seal.csv"

: >"$WORK/speed.txt"
for c in $CIPHERS; do
    for n in $SIZES; do
        # -mr: "+F:<index>:<name>:<bytes per second>" for the one size asked for.
        bps=$(openssl speed -mr -seconds 1 -evp "$c" -aead -bytes "$n" 2>/dev/null |
            awk -F: '/^\+F:/ { print $NF }')
        if [ -z "$bps" ]; then
            echo "micro_openssl: openssl speed gave no figure for $c at $n bytes" >&2
            exit 1
        fi
        echo "$c $n $bps" >>"$WORK/speed.txt"
    done
done

/usr/bin/python3 - "$WORK/seal.csv" "$WORK/speed.txt" "$OUTDIR/micro_vs_openssl.csv" <<'PY'
import csv, sys
seal = {(r["suite"], int(r["bytes"])): r for r in csv.DictReader(open(sys.argv[1]))}
rows = []
for line in open(sys.argv[2]):
    cipher, n, bps = line.split()
    n, bps = int(n), float(bps)
    r = seal.get((cipher, n))
    if not r or r["status"] != "ok":
        sys.exit(f"micro_openssl: no sealbench figure for {cipher} at {n} bytes")
    ours = float(r["ns_p50"])
    theirs = n * 1e9 / bps
    rows.append((cipher, n, ours, theirs, ours / theirs, r["cv_pct"]))
with open(sys.argv[3], "w", newline="") as f:
    w = csv.writer(f, lineterminator="\n")
    w.writerow(["cipher", "bytes", "sealbench_ns_p50", "openssl_speed_ns", "ratio"])
    for c, n, ours, theirs, ratio, _ in rows:
        w.writerow([c, n, f"{ours:.1f}", f"{theirs:.1f}", f"{ratio:.3f}"])
print("seal, ns per message: sealbench micro p50 (10 repetitions) vs openssl speed (1 s)")
print(f"{'cipher':<18} {'bytes':>6} {'sealbench':>10} {'cv%':>6} {'openssl':>10} {'ratio':>6}")
for c, n, ours, theirs, ratio, cv in rows:
    print(f"{c:<18} {n:>6} {ours:>10.1f} {float(cv):>6.1f} {theirs:>10.1f} {ratio:>6.2f}")
PY

# ---- spread across repetitions at the default length ------------------------------------------

"$BIN" micro --backend openssl --repetitions 10 --sizes 16,256,4096 --no-counters \
    --out "$WORK/cv.csv"
/usr/bin/python3 - "$WORK/cv.csv" "$OUTDIR/micro_cv.csv" <<'PY'
import csv, statistics, sys
rows = [r for r in csv.DictReader(open(sys.argv[1])) if r["status"] == "ok"]
cols = ["op", "suite", "group", "bytes", "repetitions", "ns_p50", "ns_min", "ns_max", "cv_pct"]
with open(sys.argv[2], "w", newline="") as f:
    w = csv.writer(f, lineterminator="\n")
    w.writerow(cols)
    for r in rows:
        w.writerow([r[c] for c in cols])
cvs = sorted(float(r["cv_pct"]) for r in rows)
print(f"\ncv_pct over 10 repetitions of --min-time 0.05 s, openssl, {len(rows)} cases:")
print(f"  median {statistics.median(cvs):.1f}%, p90 {cvs[int(0.9 * (len(cvs) - 1))]:.1f}%, max {cvs[-1]:.1f}%")
worst = sorted(rows, key=lambda r: -float(r["cv_pct"]))[:5]
for r in worst:
    print(f"  {r['op']:<9} {r['suite'] or r['group']:<21} {r['bytes']:>5} B  cv {float(r['cv_pct']):5.1f}%  p50 {float(r['ns_p50']):.0f} ns")
PY
