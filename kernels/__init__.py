"""Fused LM-head ops: each kernel beside its plain-torch reference, chosen by ``impl=``."""

from judgeaudit.kernels.lm_head import lm_head_logprobs, lm_head_logprobs_torch, triton_available

__all__ = ["lm_head_logprobs", "lm_head_logprobs_torch", "triton_available"]
