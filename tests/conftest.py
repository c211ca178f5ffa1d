import os

# Tests never touch the network: models and datasets come from packages or the tests.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

# Triton kernels run on CPU tensors only in interpreter mode, which must be chosen
# before triton is first imported. Where CUDA exists the kernels are compiled for the GPU
# (the tests marked `cuda` run them); JUDGEAUDIT_TEST_INTERPRET=1 asks for the interpreter anyway.
def _cuda_present() -> bool:
    import torch

    return torch.cuda.is_available()


if os.environ.get("JUDGEAUDIT_TEST_INTERPRET") == "1" or not _cuda_present():
    os.environ.setdefault("TRITON_INTERPRET", "1")


import pytest  # noqa: E402


@pytest.fixture(scope="session")
def smollm2():
    """The embedded SmolLM2-135M-Instruct in fp32 (converted from GGUF once, then cached)."""
    from judgeaudit.models.loading import load_model

    return load_model("smollm2", dtype="float32")
