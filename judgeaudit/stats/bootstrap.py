"""The project's bootstrap: one CI level, one seeded generator, scipy.stats.bootstrap underneath.

Probe statistics resample items: each value handed in is one item's whole contribution
(its orders and repeats already averaged), so the interval is clustered by item, not by
judgment. SOS-Bench scores resample documents within each subtask, and correlations
resample models (pairs kept together, ``paired=True``).
"""

from __future__ import annotations

import warnings
import zlib
from dataclasses import dataclass
from typing import Sequence

import numpy as np
from scipy import stats

DEFAULT_RESAMPLES = 2000
DEFAULT_LEVEL = 0.95


@dataclass(frozen=True)
class Interval:
    low: float
    high: float
    method: str  # "BCa", "percentile" or "degenerate"


def named_rng(seed: int, name: str) -> np.random.Generator:
    """A generator per (seed, name): one probe's (benchmark's, factor's) interval does not depend on the others."""
    return np.random.default_rng([int(seed) & 0xFFFFFFFF, zlib.crc32(name.encode("utf-8"))])


def mean_ci(values: Sequence[float], *, resamples: int = DEFAULT_RESAMPLES, level: float = DEFAULT_LEVEL,
            rng: np.random.Generator | int = 0) -> Interval | None:
    """BCa bootstrap interval of the mean (scipy), percentile when BCa is undefined.

    BCa needs a non-degenerate jackknife; when every value is equal the interval is that
    value, and when BCa still fails (tiny or lopsided samples) the percentile interval is used.
    """
    x = np.asarray(values, dtype=float)
    if x.size == 0:
        return None
    if x.size == 1 or np.ptp(x) == 0:
        return Interval(float(x[0]), float(x[0]), "degenerate")
    if not isinstance(rng, np.random.Generator):
        rng = np.random.default_rng(rng)
    state = rng.bit_generator.state
    for method in ("BCa", "percentile"):
        rng.bit_generator.state = state  # both attempts draw the same resamples
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            res = stats.bootstrap((x,), np.mean, n_resamples=resamples, confidence_level=level,
                                  method=method, rng=rng, vectorized=True)
        lo, hi = float(res.confidence_interval.low), float(res.confidence_interval.high)
        if np.isfinite(lo) and np.isfinite(hi):
            return Interval(lo, hi, method)
    return None


@dataclass(frozen=True)
class PercentileBootstrap:
    ci: tuple[float, float] | None
    replicates: np.ndarray  # the statistic under each resample (NaN where undefined)


def percentile_bootstrap(samples: Sequence[np.ndarray], statistic, *, resamples: int = DEFAULT_RESAMPLES,
                         level: float = DEFAULT_LEVEL, rng: np.random.Generator, paired: bool = False,
                         vectorized: bool = False) -> PercentileBootstrap:
    """Percentile interval of ``statistic(*samples)`` (scipy.stats.bootstrap).

    Samples are resampled independently (stratified) unless ``paired``; a resample where the
    statistic is undefined (NaN) is left out of the interval, as scipy's percentile method
    would otherwise return NaN.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = stats.bootstrap(tuple(samples), statistic, n_resamples=resamples, confidence_level=level,
                              method="percentile", paired=paired, vectorized=vectorized, rng=rng)
    reps = np.asarray(res.bootstrap_distribution, dtype=float)
    return PercentileBootstrap(percentile_interval(reps, level), reps)


def resample_counts(indices: np.ndarray, n: int) -> np.ndarray:
    """How often each of ``n`` clusters appears in each resample: (..., n) indices -> (..., n) counts."""
    idx = np.asarray(indices, dtype=int)
    flat = idx.reshape(-1, idx.shape[-1])
    counts = np.zeros((flat.shape[0], n))
    np.add.at(counts, (np.arange(flat.shape[0])[:, None], flat), 1.0)
    return counts.reshape(idx.shape[:-1] + (n,))


def cluster_bootstrap(n_clusters: int, statistic, *, resamples: int = DEFAULT_RESAMPLES,
                      level: float = DEFAULT_LEVEL, rng: np.random.Generator) -> PercentileBootstrap | None:
    """Percentile interval of a statistic of clusters (items), through ``percentile_bootstrap``.

    ``statistic(counts)`` gets resample counts, shape (resamples, n_clusters) (one row per
    draw; a row of ones is the data as observed) and returns one value per row. Several
    quantities over the same items stay clustered: each is a weighted mean of per-item values.
    None when there are fewer than two clusters.
    """
    if n_clusters < 2:
        return None

    def on_indices(idx: np.ndarray, axis: int = -1) -> np.ndarray:
        return statistic(resample_counts(np.moveaxis(idx, axis, -1), n_clusters))

    return percentile_bootstrap((np.arange(n_clusters),), on_indices, resamples=resamples, level=level, rng=rng,
                                vectorized=True)


def cluster_weights(n_clusters: int, *, resamples: int, rng: np.random.Generator) -> np.ndarray:
    """Multinomial resampling counts, shape (resamples, n_clusters): one row per bootstrap draw.

    For statistics that refit a model per draw and return many values at once (the arena's
    Bradley-Terry scores and style coefficients), which ``scipy.stats.bootstrap`` cannot
    carry: the same cluster resampling, drawn once and shared by every quantity.
    """
    if n_clusters == 0:
        return np.zeros((resamples, 0))
    return rng.multinomial(n_clusters, np.full(n_clusters, 1.0 / n_clusters), size=resamples).astype(float)


def percentile_interval(draws: np.ndarray, level: float = DEFAULT_LEVEL) -> tuple[float, float] | None:
    draws = draws[np.isfinite(draws)]
    if draws.size == 0:
        return None
    alpha = (1.0 - level) / 2.0
    lo, hi = np.quantile(draws, [alpha, 1.0 - alpha])
    return float(lo), float(hi)
