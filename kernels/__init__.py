"""Fused LM-head ops: each kernel beside its plain-torch reference, chosen by ``impl=``.

This folder is installed and imported as ``judgeaudit.kernels``.

The Triton kernel lives in ``judgeaudit.kernels.lm_head_triton`` and is imported only when
used, so importing this package never needs triton.
"""

from judgeaudit.kernels.lm_head import (
    check_lm_head_inputs,
    lm_head_logprobs,
    lm_head_logprobs_torch,
    triton_available,
)

__all__ = ["check_lm_head_inputs", "lm_head_logprobs", "lm_head_logprobs_torch", "triton_available"]
