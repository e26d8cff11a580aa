#!/usr/bin/env bash
# The Dockerfile, checked without a Docker engine: FROM Debian 12; the install script it runs
# exists and is the one .ci/run runs; the dependency layer comes before `COPY . .` (build cache);
# every COPY source exists; every `make TARGET` is a target of the Makefile; the tests run at
# build time; the default command's config exists (and plans, when the binary is built); the
# VOLUME is the results folder, and the documented `docker run -v` mounts it. The same checks
# are then run on broken copies of the Dockerfile, each of which must be caught.
# run.sh: native build only
set -u
cd "$(dirname "$0")/.."
BIN=${1:-build/native/sealbench}
NAME=dockerfile
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
. tests/assert.sh

# The Makefile's targets, from make's own database (no recipe runs: -q, and a probe target).
make -pRrq .sb-probe 2>/dev/null |
    awk -F: '/^[a-zA-Z0-9][^$#\/\t=]*:([^=]|$)/ {print $1}' | sort -u >"$TMP/targets"

# check_dockerfile FILE: one line per check, "ok: WHAT" or "bad: WHAT: WHY".
check_dockerfile() {
    python3 - "$1" "$TMP/targets" "$BIN" <<'PY'
import glob, json, os, re, shlex, subprocess, sys
path, targets_file, binary = sys.argv[1:4]
targets = set(open(targets_file).read().split())
text = open(path).read()

def ok(what): print("ok: " + what)
def bad(what, why): print("bad: %s: %s" % (what, why))
def check(cond, what, why):
    ok(what) if cond else bad(what, why)

# Instructions, continuation lines joined; comments kept apart (they document the run command).
instr, comments, cur = [], [], ""
for line in text.splitlines():
    s = line.strip()
    if not cur and s.startswith("#"):
        comments.append(s)
        continue
    if not s and not cur:
        continue
    if s.endswith("\\"):
        cur += s[:-1] + " "
        continue
    cur += s
    kw, _, rest = cur.partition(" ")
    instr.append((kw.upper(), rest.strip()))
    cur = ""
kinds = [k for k, _ in instr]

# FROM: Debian 12, the release the install script and CI know.
froms = [r for k, r in instr if k == "FROM"]
check(len(froms) == 1 and re.fullmatch(r"debian:(12|bookworm)(-slim)?(@sha256:[0-9a-f]{64})?( [Aa][Ss] \S+)?", froms[0] or ""),
      "FROM debian:12 (bookworm), once", "FROM lines: %r" % froms)

workdir = ([r for k, r in instr if k == "WORKDIR"] or [""])[-1]
check(workdir.startswith("/"), "WORKDIR is absolute", "WORKDIR %r" % workdir)

# The install script: run by the Dockerfile, present, executable, and the one CI runs.
runs = [(i, r) for i, (k, r) in enumerate(instr) if k == "RUN"]
install = [(i, m.group(1)) for i, r in runs for m in [re.search(r"(\S*install-deps\.sh)", r)] if m]
if not install:
    bad("the install script is run", "no RUN runs scripts/install-deps.sh")
else:
    i_install, script = install[0]
    script = script.lstrip("./")
    check(os.path.isfile(script) and os.access(script, os.X_OK), "the install script %s exists and is executable" % script,
          "%s missing or not executable" % script)
    ci = open(".ci/run").read() if os.path.exists(".ci/run") else ""
    check(re.search(r"(^|[\s/])" + re.escape(script) + r"(\s|$)", ci) is not None,
          ".ci/run runs the same install script", "%s not found in .ci/run" % script)
    # Build cache: only the script (and ciphers/backends.txt, whose -dev packages it installs)
    # is copied before it runs; the sources after.
    copies = [(i, r) for i, (k, r) in enumerate(instr) if k in ("COPY", "ADD")]
    before = [r for i, r in copies if i < i_install]
    whole = [i for i, r in copies if re.fullmatch(r"(--\S+ )*\. \S+", r)]
    check(any(script in r for r in before), "the install script is copied in before it runs",
          "no COPY of %s before instruction %d" % (script, i_install))
    check(whole and min(whole) > i_install and all(script in r or "ciphers/backends.txt" in r for r in before),
          "dependencies are installed before the sources are copied (build cache)",
          "COPY before install: %r; install at instruction %d, COPY . at %r" % (before, i_install, whole))

# COPY sources exist (the build context is the repository).
for k, r in instr:
    if k not in ("COPY", "ADD"):
        continue
    args = [a for a in shlex.split(r) if not a.startswith("--")]
    if any(a.startswith("--from") for a in shlex.split(r)):
        continue
    for src in args[:-1]:
        check(bool(glob.glob(src)), "COPY source %s exists" % src, "no %s in the repository" % src)

# Every make target named in RUN and CMD is one the Makefile defines.
def make_targets(words):
    out, in_make = [], False
    for w in words:
        if w in ("make", "$(MAKE)"):
            in_make = True
            out.append([])
            continue
        if in_make:
            if w in ("&&", "||", ";", "|", "then", "else", "fi") or w.endswith(";"):
                in_make = False
                continue
            if w.startswith("-") or "=" in w:
                continue
            out[-1].append(w)
    return [t or ["all"] for t in out]

cmd = [r for k, r in instr if k == "CMD"]
cmd_words = []
if cmd:
    try:
        cmd_words = json.loads(cmd[-1])
        ok("CMD is in exec form")
    except ValueError:
        bad("CMD is in exec form", "CMD %s is not a JSON array" % cmd[-1])
        cmd_words = shlex.split(cmd[-1])
else:
    bad("there is a CMD", "none")
made = []
for _, r in runs:
    for t in make_targets(shlex.split(r.replace(";", " ; "))):
        made += t
for t in make_targets(cmd_words):
    made += t
for t in made:
    check(t in targets, "make %s is a Makefile target" % t, "the Makefile has no target '%s'" % t)
check(any(re.search(r"\bmake\b[^;&|]*\btest\b", r) for _, r in runs), "the tests run at build time (RUN ... make test)",
      "no RUN runs make test")

# The default command: the experiments, on a config that exists.
conf = [w.split("=", 1)[1] for w in cmd_words if w.startswith("CONFIG=")]
check("experiments" in cmd_words, "the default command runs make experiments", "CMD %r" % cmd_words)
if conf:
    check(os.path.isfile(conf[0]), "the CMD's config %s exists" % conf[0], "no file %s" % conf[0])
    if os.path.isfile(conf[0]) and os.access(binary, os.X_OK):
        p = subprocess.run([binary, "run", conf[0], "--dry-run"], capture_output=True, text=True)
        check(p.returncode == 0, "the CMD's config plans (sealbench run --dry-run)", p.stderr.strip()[-300:])
else:
    bad("the CMD names its config (CONFIG=...)", "CMD %r" % cmd_words)
check(not any(w.startswith(("OUT=", "RESUME=")) for w in cmd_words), "the default run writes under results/",
      "CMD sends it elsewhere: %r" % cmd_words)

# The VOLUME is the results folder, and the documented mount matches it.
vols = []
for k, r in instr:
    if k == "VOLUME":
        vols += json.loads(r) if r.startswith("[") else r.split()
results = os.path.normpath(os.path.join(workdir, "results"))
check(vols == [results], "VOLUME is %s only" % results, "VOLUME %r" % vols)
check(os.path.isdir("results"), "results/ is in the repository", "no results/")
doc = "\n".join(comments)
check(re.search(r"docker run\b.*-v\s+\"?\$(PWD|\{PWD\})/results:" + re.escape(results) + r"\"?", doc) is not None,
      "the comments show docker run -v $PWD/results:%s" % results, "no such line in the Dockerfile's comments")
PY
}

# ---- the Dockerfile as it is -----------------------------------------------------------------
if [ -s "$TMP/targets" ]; then ok; else bad "make's target list" "empty (make -pq failed?)"; fi
grep -qx test "$TMP/targets" && ok || bad "'test' among the Makefile's targets" "$(tr '\n' ' ' <"$TMP/targets")"
check_dockerfile Dockerfile >"$TMP/checks"
cmd="check_dockerfile Dockerfile"
n=$(grep -c '' "$TMP/checks")
[ "$n" -ge 15 ] && ok || bad "at least 15 checks made" "$n: $(cat "$TMP/checks")"
while IFS= read -r line; do
    case $line in
        ok:*) ok ;;
        bad:*) bad "${line#bad: }" "(the Dockerfile)" ;;
        *) bad "a check line" "$line" ;;
    esac
done <"$TMP/checks"

# ---- broken copies: each must be caught ------------------------------------------------------
# mutant SED-EXPRESSION EXPECTED: the Dockerfile changed by sed must give a "bad:" line
# containing EXPECTED.
mutant() {
    sed -E "$1" Dockerfile >"$TMP/Dockerfile.mutant"
    cmd="Dockerfile with sed '$1'"
    if cmp -s Dockerfile "$TMP/Dockerfile.mutant"; then
        bad "the sed expression to change the Dockerfile" "no change"
        return
    fi
    check_dockerfile "$TMP/Dockerfile.mutant" >"$TMP/mutant.out"
    if grep '^bad:' "$TMP/mutant.out" | grep -qF -- "$2"; then ok; else bad "a failed check containing '$2'" "$(shown "$(grep '^bad:' "$TMP/mutant.out")")"; fi
}
mutant 's/^FROM debian:12/FROM ubuntu:22.04/' "FROM debian:12"
mutant 's#scripts/install-deps.sh &&#scripts/install-dependencies.sh \&\&#' "install script"
mutant '/^COPY scripts\/install-deps.sh/d' "copied in before it runs"
mutant 's#^COPY scripts/install-deps.sh .*#COPY . .#' "before the sources are copied"
mutant 's/make -j"\$\(nproc\)"/make -j"$(nproc)" everything/' "no target 'everything'"
mutant 's/NO_DEPS=1 make test/NO_DEPS=1 make tests/' "no target 'tests'"
mutant 's#^COPY \. \.#COPY . .\nCOPY vendor/ vendor/#' "COPY source vendor/"
mutant 's#configs/quick.ini#configs/nosuch.ini#' "nosuch.ini"
mutant 's#^VOLUME .*#VOLUME /data#' "VOLUME is"
mutant 's#^CMD .*#CMD make experiments CONFIG=experiments/configs/quick.ini#' "exec form"

echo "dockerfile: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
