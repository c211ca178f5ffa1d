"""Useful work as a rate: tokens per second, and the share of this machine's matmul peak.

The peak is measured, not looked up: the best of a few dense fp32 (or the model's dtype)
matrix products on the model's device. A decoder's forward costs about 2 x body parameters
FLOPs per token, so tokens/s x 2 x body parameters / peak is the share of the machine that
went into the model's own matrix products. Attention scores and the LM head (which the
engines run only where a prediction is read or a token written) are not counted, so the
rates are lower bounds.
"""

from __future__ import annotations

import time
from typing import Any

import torch


def matmul_peak_flops(device: Any = "cpu", dtype: torch.dtype = torch.float32, n: int = 1024, repeats: int = 5) -> float:
    """FLOP/s of the best of ``repeats`` n x n x n products (after one warm-up)."""
    a = torch.randn(n, n, device=device, dtype=dtype)
    b = torch.randn(n, n, device=device, dtype=dtype)
    best = float("inf")
    for k in range(repeats + 1):
        if torch.device(device).type == "cuda":
            torch.cuda.synchronize()
        t0 = time.perf_counter()
        a @ b
        if torch.device(device).type == "cuda":
            torch.cuda.synchronize()
        if k:
            best = min(best, time.perf_counter() - t0)
    return 2 * n**3 / best


def parameter_count(model: Any) -> int:
    """Parameters of the decoder body, which every token passes through: not the input
    embedding (a lookup) nor the LM head (run at prediction positions only)."""
    seen = {id(p): p.numel() for p in model.parameters()}
    for module in (model.get_input_embeddings(), model.get_output_embeddings()):
        if module is not None:
            seen.pop(id(module.weight), None)
    return sum(seen.values())


def rate_line(label: str, tokens: int, seconds: float, params: int, peak: float, equivalent: bool = False) -> str:
    """``equivalent``: the tokens count work a plain evaluator would do (shared beginnings once
    per request), so the FLOP rate is what that evaluator would need, and may pass the peak."""
    per_s = tokens / max(seconds, 1e-9)
    share = per_s * 2 * params / peak
    kind = "equivalent " if equivalent else ""
    return (f"{label}: {tokens} tokens in {seconds:.1f}s = {per_s:.0f} tokens/s, "
            f"{per_s * 2 * params / 1e9:.1f} {kind}GFLOP/s = {100 * share:.1f}% of the measured matmul peak "
            f"({peak / 1e9:.0f} GFLOP/s)")
