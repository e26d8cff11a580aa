"""The statistics behind every table: type-7 quantiles (as common/stats.c computes them),
a percentile bootstrap for medians, Mann-Whitney U with its rank-biserial effect size, and the
coefficient of variation that flags a noisy measurement.

Everything is deterministic: the bootstrap draws from numpy's default_rng(seed), so a table
recomputed from the same samples gives the same interval to the last digit."""

from collections import namedtuple

import numpy as np
from scipy import stats as _sps

# A measurement whose spread across repetitions exceeds this is flagged in the noise table.
NOISY_CV_PCT = 10.0

# Elements (resamples x sample size) drawn at once: bounds memory (about 100 MB of indices and
# counts) while keeping the work vectorised.
_BOOT_CHUNK_ELEMENTS = 4_000_000

MannWhitney = namedtuple("MannWhitney", "u p r n_a n_b")


def _values(x):
    """x as a float array with NaN dropped: missing samples are not zeros."""
    a = np.asarray(x, dtype=float).ravel()
    return a[~np.isnan(a)]


def quantile(x, q):
    """Type-7 quantile (linear between order statistics, numpy's default); NaN for no data."""
    a = _values(x)
    if a.size == 0:
        return np.nan if np.ndim(q) == 0 else np.full(np.shape(q), np.nan)
    return np.quantile(a, q)


def bootstrap_median_ci(x, n=2000, seed=1, level=0.95):
    """Percentile bootstrap interval (lo, hi) of the median of x.

    n resamples of len(x) values drawn with replacement (all of x, no subsampling); the
    interval is the type-7 (1-level)/2 and (1+level)/2 quantiles of their medians."""
    a = np.sort(_values(x))
    m = a.size
    if m == 0:
        return (np.nan, np.nan)
    if m == 1:
        return (float(a[0]), float(a[0]))
    rng = np.random.default_rng(seed)
    # A resample of sorted data is fixed by how often it draws each order statistic, so its
    # median is found from cumulative counts instead of sorting every resample: the same
    # numbers np.median(a[idx], axis=1) gives, at a fraction of the time and memory.
    lo_rank = (m + 1) // 2 if m % 2 else m // 2          # 1-based ranks of the middle pair
    hi_rank = (m + 1) // 2 if m % 2 else m // 2 + 1
    rows = max(1, _BOOT_CHUNK_ELEMENTS // m)
    medians = np.empty(n)
    done = 0
    while done < n:
        k = min(rows, n - done)
        idx = rng.integers(0, m, size=(k, m), dtype=np.int32 if k * m < 2**31 else np.int64)
        row = np.arange(k)
        idx += (row * m)[:, None]                   # in place: one bincount for all rows
        counts = np.bincount(idx.ravel(), minlength=k * m).reshape(k, m)
        del idx
        # Shift each row's running count by row * (m + 1) so one searchsorted serves all rows.
        base = row * (m + 1)
        cum = np.cumsum(counts, axis=1, dtype=np.int64)
        cum += base[:, None]
        cum = cum.ravel()
        i_lo = np.searchsorted(cum, base + lo_rank) - row * m
        i_hi = np.searchsorted(cum, base + hi_rank) - row * m
        medians[done:done + k] = (a[i_lo] + a[i_hi]) / 2.0
        done += k
    alpha = (1.0 - level) / 2.0
    lo, hi = np.quantile(medians, [alpha, 1.0 - alpha])
    return (float(lo), float(hi))


def mann_whitney(a, b):
    """Two-sided Mann-Whitney U test of a against b.

    Returns (u, p, r, n_a, n_b): u is the U statistic of a, r the rank-biserial correlation
    2u/(n_a n_b) - 1, that is P(a > b) - P(a < b): +1 when every a exceeds every b, 0 for no
    shift. NaN throughout when either side is empty."""
    x, y = _values(a), _values(b)
    if x.size == 0 or y.size == 0:
        return MannWhitney(np.nan, np.nan, np.nan, int(x.size), int(y.size))
    res = _sps.mannwhitneyu(x, y, alternative="two-sided")
    u = float(res.statistic)
    r = 2.0 * u / (x.size * y.size) - 1.0
    return MannWhitney(u, float(res.pvalue), r, int(x.size), int(y.size))


def cv_pct(values):
    """Coefficient of variation in %: sample standard deviation (n-1) over the mean, x 100.
    NaN with fewer than two values (undefined, not zero) or a zero mean."""
    a = _values(values)
    if a.size < 2:
        return np.nan
    m = a.mean()
    if m == 0:
        return np.nan
    return float(a.std(ddof=1) / abs(m) * 100.0)


def is_noisy(cv, threshold=NOISY_CV_PCT):
    """True when a CV (in %) exceeds the threshold; an undefined CV (NaN) is not flagged here:
    the noise table reports it separately as undefined."""
    return cv is not None and not np.isnan(cv) and cv > threshold
