import os

# Tests never touch the network: models and datasets come from packages or the tests.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

# Triton kernels run on CPU tensors only in interpreter mode, which must be chosen
# before triton is first imported.
os.environ.setdefault("TRITON_INTERPRET", "1")


import pytest  # noqa: E402


@pytest.fixture(scope="session")
def smollm2():
    """The embedded SmolLM2-135M-Instruct in fp32 (converted from GGUF once, then cached)."""
    from judgeaudit.models.loading import load_model

    return load_model("smollm2", dtype="float32")
