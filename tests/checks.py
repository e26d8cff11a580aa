"""What the standard-library checkers (check_run.py, check_analysis.py) share: a counted check,
a type-7 quantile recomputed independently of common/stats.c and of numpy, a relative
comparison, the wire overhead of each suite taken from the independent protocol vectors, and the
list of cipher backends. They end with "checks: N passed, N failed", which the shell tests add
up."""
import os

HERE = os.path.dirname(os.path.abspath(__file__))

counts = {"passed": 0, "failed": 0}


def check(cond, what):
    """Counts one check; returns whether it held, so that a caller can stop at a broken premise."""
    if cond:
        counts["passed"] += 1
    else:
        counts["failed"] += 1
        print("FAIL:", what)
    return bool(cond)


def quantile(v, q):
    """Type 7 (linear between order statistics)."""
    v = sorted(v)
    pos = q * (len(v) - 1)
    i = int(pos)
    return v[i] + (pos - i) * (v[i + 1] - v[i]) if i + 1 < len(v) else v[-1]


def close(a, b, rel=1e-5):
    return abs(a - b) <= rel * max(abs(a), abs(b), 1)


def summary():
    print(f"checks: {counts['passed']} passed, {counts['failed']} failed")
    return 1 if counts["failed"] else 0


def vector_overheads(path=os.path.join(HERE, "vectors", "sealbench-v1.json")):
    """Bytes a sealed message adds to its plaintext, unpadded, per suite, from the vectors that
    an independent implementation generated from PROTOCOL.md (tests/vectors/README.md): the
    oracle for "14 + tag", kept apart from the suite table of the code under test."""
    import json
    out = {}
    for v in json.load(open(path))["vectors"]:
        if v["pad_to"] == 0:
            for m in v["messages"]:
                out.setdefault(v["suite"], set()).add((len(m["wire"]) - len(m["plaintext"])) // 2)
    assert all(len(n) == 1 for n in out.values()), f"vectors disagree on an overhead: {out}"
    return {s: n.pop() for s, n in out.items()}


def backends_file(path=os.path.join(HERE, "..", "ciphers", "backends.txt")):
    """ciphers/backends.txt: {name: {"soname": ..., "runtime": ...}} in its order."""
    out = {}
    for line in open(path):
        f = line.split()
        if f and not f[0].startswith("#"):
            out[f[0]] = {"soname": f[2], "runtime": f[3]}
    return out
