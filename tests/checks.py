"""What the standard-library checkers (check_run.py, check_analysis.py) share: a counted check,
a type-7 quantile recomputed independently of common/stats.c and of numpy, and a relative
comparison. They end with "checks: N passed, N failed", which the shell tests add up."""

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
