"""Log-probabilities of target tokens through the LM head, without [N, V] logits.

    logprob[i] = (h W^T + b)[i, t_i] - logsumexp_v (h W^T + b)[i, v]
    greedy[i]  = argmax_v (h W^T + b)[i, v] == t_i      (ties: the lowest index wins)

with an optional final-logit softcap (Gemma-2 style: c * tanh(z / c)) applied to the
logits first. Accumulation is in fp32 whatever the input dtype.

``impl="torch"`` is the plain reference: it processes rows in chunks so its extra
memory is O(chunk x V) instead of O(N x V). ``impl="triton"`` is the fused kernel in
``lm_head_triton``. ``impl="auto"`` picks Triton for CUDA tensors when it is
importable and torch otherwise.
"""

from __future__ import annotations

import torch

# Rows per chunk in the torch path: 256 x 128k vocab x 4 bytes = 128 MiB of logits at most.
TORCH_CHUNK_ROWS = 256


def check_lm_head_inputs(
    hidden: torch.Tensor,
    weight: torch.Tensor,
    targets: torch.Tensor,
    bias: torch.Tensor | None = None,
    softcap: float | None = None,
) -> None:
    """Raise ValueError naming the argument when shapes, dtypes, targets or softcap are wrong."""
    if hidden.dim() != 2 or weight.dim() != 2:
        raise ValueError(f"hidden must be [N, d] and weight [V, d]; got {tuple(hidden.shape)} and {tuple(weight.shape)}")
    if hidden.shape[1] != weight.shape[1]:
        raise ValueError(f"hidden dim {hidden.shape[1]} != weight dim {weight.shape[1]}")
    if weight.shape[0] == 0:
        raise ValueError("weight has an empty vocabulary (V = 0)")
    if targets.shape != (hidden.shape[0],):
        raise ValueError(f"targets must be [N={hidden.shape[0]}]; got {tuple(targets.shape)}")
    if targets.dtype.is_floating_point or targets.dtype.is_complex or targets.dtype == torch.bool:
        raise ValueError(f"targets must be an integer tensor; got {targets.dtype}")
    if not hidden.dtype.is_floating_point or not weight.dtype.is_floating_point:
        raise ValueError(f"hidden and weight must be floating point; got {hidden.dtype} and {weight.dtype}")
    if bias is not None and bias.shape != (weight.shape[0],):
        raise ValueError(f"bias must be [V={weight.shape[0]}]; got {tuple(bias.shape)}")
    if softcap is not None and not softcap > 0:
        raise ValueError(f"softcap must be a positive number; got {softcap!r}")
    if targets.numel():
        low, high = (int(x) for x in torch.aminmax(targets))  # one reduction, one device sync
        if low < 0 or high >= weight.shape[0]:
            raise ValueError(f"targets must lie in [0, V={weight.shape[0]}); got values in [{low}, {high}]")


def lm_head_logprobs_torch(
    hidden: torch.Tensor,
    weight: torch.Tensor,
    targets: torch.Tensor,
    bias: torch.Tensor | None = None,
    softcap: float | None = None,
    chunk_rows: int = TORCH_CHUNK_ROWS,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Chunked reference implementation (any device).

    The weight is upcast to fp32 once (a no-op for fp32 models), so besides the O(chunk x V)
    logits this path holds an fp32 copy of a bf16/fp16 weight.
    """
    check_lm_head_inputs(hidden, weight, targets, bias, softcap)
    if chunk_rows < 1:
        raise ValueError(f"chunk_rows must be >= 1; got {chunk_rows}")
    n = hidden.shape[0]
    logprob = torch.empty(n, dtype=torch.float32, device=hidden.device)
    greedy = torch.empty(n, dtype=torch.bool, device=hidden.device)
    w32 = weight.float()
    b32 = bias.float() if bias is not None else None
    for start in range(0, n, chunk_rows):
        stop = min(start + chunk_rows, n)
        # One [chunk, V] buffer, updated in place: fewer passes over it and no temporaries.
        logits = hidden[start:stop].float() @ w32.T
        if b32 is not None:
            logits += b32
        if softcap is not None:
            logits.div_(softcap).tanh_().mul_(softcap)
        t = targets[start:stop].long()
        target_logit = logits.gather(1, t[:, None]).squeeze(1)
        top, top_index = logits.max(dim=1)  # on ties torch.max returns the first maximal index
        total = logits.sub_(top[:, None]).exp_().sum(dim=1)
        logprob[start:stop] = target_logit - top - total.log()
        greedy[start:stop] = top_index == t
        del logits
    return logprob, greedy


def triton_available() -> bool:
    try:
        from judgeaudit.kernels import lm_head_triton  # noqa: F401
    except Exception:  # ImportError, or triton failing to initialise on this platform
        return False
    return True


def lm_head_logprobs(
    hidden: torch.Tensor,
    weight: torch.Tensor,
    targets: torch.Tensor,
    bias: torch.Tensor | None = None,
    softcap: float | None = None,
    impl: str = "auto",
) -> tuple[torch.Tensor, torch.Tensor]:
    """(logprob [N] float32, greedy [N] bool) for hidden [N, d], weight [V, d], targets [N]."""
    if impl not in ("auto", "torch", "triton"):
        raise ValueError(f"impl must be 'auto', 'torch' or 'triton'; got {impl!r}")
    if impl == "auto":
        impl = "triton" if hidden.is_cuda and triton_available() else "torch"
    if impl == "torch":
        return lm_head_logprobs_torch(hidden, weight, targets, bias=bias, softcap=softcap)
    from judgeaudit.kernels.lm_head_triton import lm_head_logprobs_triton

    return lm_head_logprobs_triton(hidden, weight, targets, bias=bias, softcap=softcap)
