"""Optional vLLM backend for greedy generation, used when vLLM is installed and a GPU is present.

Same contract as `judgeaudit.engine.generation.generate`: greedy decoding, at most
`max_new_tokens` new tokens, output cut at the first stop string, and with `chat=True`
each prompt rendered as one user message through the tokenizer's chat template. vLLM
loads the model itself from the loaded model's checkpoint directory or hub id, once per
process; the transformers model already in memory is not reused.

Untested: no machine that runs the test suite (nor the GPU check machine) has vLLM. To use a
vLLM deployment with tested code, serve the model and pass
``--model openai-completions:NAME --api-base URL`` (``judgeaudit.engine.remote``).
"""

from __future__ import annotations

import functools
import importlib.util
from typing import Any, Sequence

from judgeaudit.engine.generation import GenerationRequest, cut_at_stop, render_prompt


def available() -> bool:
    """True when vLLM can be imported and a CUDA device is visible."""
    if importlib.util.find_spec("vllm") is None:
        return False
    import torch

    return torch.cuda.is_available()


def _model_source(lm: Any) -> str:
    source = getattr(lm, "checkpoint_dir", None) or getattr(lm, "name", None)
    if not source:
        raise ValueError("the vLLM backend needs a checkpoint directory or hub id for the model")
    return str(source)


@functools.lru_cache(maxsize=2)
def _engine(source: str, dtype: str, max_model_len: int | None) -> Any:
    from vllm import LLM

    kwargs: dict[str, Any] = {"model": source, "dtype": dtype, "seed": 1234}
    if max_model_len:
        kwargs["max_model_len"] = max_model_len
    return LLM(**kwargs)


def _dtype_name(lm: Any) -> str:
    name = str(getattr(lm, "dtype", "auto")).replace("torch.", "")
    return name if name in ("float16", "bfloat16", "float32") else "auto"


def generate_until(lm: Any, requests: Sequence[GenerationRequest], progress: bool = True) -> list[str]:
    """The same requests and outputs as ``GenerationEngine.generate_until``, through vLLM."""
    if importlib.util.find_spec("vllm") is None:
        raise RuntimeError("vLLM is not installed; use judgeaudit.engine.generation.GenerationEngine")
    from vllm import SamplingParams

    engine = _engine(_model_source(lm), _dtype_name(lm), getattr(lm, "max_length", None))
    eos = lm.tokenizer.eos_token
    stops = [[s for s in r.until if s] + ([eos] if eos and eos not in r.until else []) for r in requests]
    params = [SamplingParams(temperature=0.0, max_tokens=r.max_gen_toks, stop=st or None, skip_special_tokens=True)
              for r, st in zip(requests, stops)]
    outputs = engine.generate([r.context for r in requests], params, use_tqdm=progress)
    return [cut_at_stop(o.outputs[0].text, st) for o, st in zip(outputs, stops)]


def generate(lm: Any, prompts: Sequence[str], *, max_new_tokens: int = 256, stop: Sequence[str] | None = None,
             chat: bool = False, batch_size: int | None = None, progress: bool = True, desc: str = "generating") -> list[str]:
    """Greedy continuations through vLLM (it batches on its own; `batch_size` is ignored)."""
    if importlib.util.find_spec("vllm") is None:
        raise RuntimeError("vLLM is not installed; use judgeaudit.engine.generation.generate")
    until = tuple(s for s in (stop or []) if s)
    requests = [GenerationRequest(render_prompt(lm.tokenizer, p, chat), until, int(max_new_tokens)) for p in prompts]
    return generate_until(lm, requests, progress=progress)
