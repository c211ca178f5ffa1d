"""Calibration of a judge's verdict probabilities on pairs with known ground truth.

On substance and crossed pairs the base answer is right by construction. Each judgment
states q = P(answer A preferred) + 0.5 P(tie), A being the answer shown first; the truth
is y = 1 when A is the right answer (order base_first), else 0. Over the pooled judgments:
- Brier score: mean (q - y)^2 (0 is perfect; a judge always saying 0.5 scores 0.25);
- ECE: expected calibration error over 10 equal-width bins of q:
  sum over bins of (judgments in bin / all) * |mean q - mean y|.
Intervals resample items (each item's judgments together) through stats.bootstrap.
Only judges that give a verdict distribution are scored: hard verdicts leave q in {0, .5, 1}.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from judgeaudit.stats.outcomes import PairOutcome

N_BINS = 10


def calibration_data(pairs: Sequence[PairOutcome], items: Sequence[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(q, y, item column) per parsed judgment of ``pairs`` (ground-truth pairs)."""
    col = {item: i for i, item in enumerate(items)}
    q, y, c = [], [], []
    for p in pairs:
        values = p.first_position_values()  # base_first judgments first: there A is the right answer
        n_base_first = len(p.prefs["base_first"])
        q += values
        y += [1.0] * n_base_first + [0.0] * (len(values) - n_base_first)
        c += [col[p.item_id]] * len(values)
    return np.array(q, dtype=float), np.array(y, dtype=float), np.array(c, dtype=int)


def brier(q: np.ndarray, y: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Weighted Brier score; ``weights`` (draws, judgments) -> one value per draw."""
    with np.errstate(invalid="ignore", divide="ignore"):
        return (weights @ (q - y) ** 2) / weights.sum(axis=-1)


def ece(q: np.ndarray, y: np.ndarray, weights: np.ndarray, n_bins: int = N_BINS) -> np.ndarray:
    """Weighted expected calibration error; ``weights`` (draws, judgments) -> one value per draw."""
    bins = np.minimum((q * n_bins).astype(int), n_bins - 1)
    total = weights.sum(axis=-1)
    out = np.zeros(weights.shape[:-1])
    for b in range(n_bins):
        mask = bins == b
        if mask.any():
            out += np.abs(weights[..., mask] @ (q[mask] - y[mask]))
    with np.errstate(invalid="ignore", divide="ignore"):
        return out / total


def reliability(q: np.ndarray, y: np.ndarray, n_bins: int = N_BINS) -> list[dict[str, float]]:
    """Per non-empty bin: mean q, share right (y), count; the calibration plot's points."""
    bins = np.minimum((q * n_bins).astype(int), n_bins - 1)
    out = []
    for b in range(n_bins):
        mask = bins == b
        if mask.any():
            out.append({"bin_low": b / n_bins, "bin_high": (b + 1) / n_bins, "mean_q": float(q[mask].mean()),
                        "share_right": float(y[mask].mean()), "n": int(mask.sum())})
    return out
