"""The optional vLLM generation backend reports itself unavailable without vLLM or a GPU."""

import importlib.util

import pytest

from judgeaudit.engine import generation_vllm


def test_unavailable_without_vllm_or_gpu():
    import torch

    expected = importlib.util.find_spec("vllm") is not None and torch.cuda.is_available()
    assert generation_vllm.available() is expected


@pytest.mark.skipif(importlib.util.find_spec("vllm") is not None, reason="vLLM is installed here")
def test_generate_refuses_clearly_without_vllm():
    with pytest.raises(RuntimeError, match="vLLM is not installed"):
        generation_vllm.generate(object(), ["hi"], max_new_tokens=4)
