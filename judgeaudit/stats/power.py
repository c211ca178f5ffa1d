"""Power of the per-probe sign test: the smallest delta a battery can detect.

Method (exact binomial): each of a probe's n items is taken as a decisive outcome that
favours the perturbed answer with probability 0.5 + delta. The two-sided exact sign test at
level alpha / m (the Holm threshold of the smallest p-value among m probes, so the bound
holds for every probe of the battery) rejects when the wins are k or more or n - k or fewer;
the minimum detectable delta is the smallest delta with P(reject) >= the target power.
Ties lower the effective n, so the figure is optimistic when a judge often ties.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from scipy import optimize, stats

ALPHA = 0.05
POWER = 0.80


@lru_cache(maxsize=1024)
def critical_wins(n: int, alpha: float) -> int | None:
    """Smallest k > n/2 with two-sided exact p(k wins of n) <= alpha; None when no k rejects."""
    ks = np.arange((n // 2) + 1, n + 1)
    rejects = np.minimum(1.0, 2.0 * stats.binom.sf(ks - 1, n, 0.5)) <= alpha
    return int(ks[np.argmax(rejects)]) if rejects.any() else None


def sign_test_power(n: int, p: float, alpha: float) -> float:
    k = critical_wins(n, alpha)
    if k is None:
        return 0.0
    return float(stats.binom.sf(k - 1, n, p) + stats.binom.cdf(n - k, n, p))


def min_detectable_delta(n: int, *, n_tests: int = 1, alpha: float = ALPHA, power: float = POWER) -> float | None:
    """Smallest |delta| of the win rate that the exact sign test detects with ``power`` (None: n too small)."""
    if n < 1 or n_tests < 1:
        return None
    level = alpha / n_tests
    if sign_test_power(n, 1.0, level) < power:
        return None
    p = optimize.brentq(lambda x: sign_test_power(n, x, level) - power, 0.5, 1.0, xtol=1e-6)
    return float(p - 0.5)


def method_text(n_tests: int, alpha: float = ALPHA, power: float = POWER) -> str:
    return (f"exact binomial power of the two-sided sign test at alpha {alpha:g}/{n_tests} (Holm's first step "
            f"across {n_tests} probes), target power {power:g}; an item is a decisive outcome, ties ignored")


def battery_power(pairs, *, alpha: float = ALPHA, power: float = POWER) -> dict:
    """Planned power of a battery before judging: per probe, its items n and minimum detectable delta.

    ``pairs`` are the planned probe pairs (anything with ``probe``, ``kind`` and ``item_id``).
    """
    items: dict[str, set] = {}
    kinds: dict[str, str] = {}
    for p in pairs:
        items.setdefault(p.probe, set()).add(p.item_id)
        kinds[p.probe] = p.kind
    m = len(items)
    probes = {name: {"kind": kinds[name], "n": len(ids),
                     "min_detectable_delta": min_detectable_delta(len(ids), n_tests=m, alpha=alpha, power=power)}
              for name, ids in items.items()}
    return {"n_probes": m, "alpha": alpha, "power": power, "method": method_text(max(m, 1), alpha, power),
            "probes": probes}
