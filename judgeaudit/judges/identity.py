"""What makes a judge's verdicts what they are, written to config.json and results.json.

Two runs whose identities differ did not measure the same judge: ``judgeaudit compare``
warns about every field that differs (contracts.JudgeIdentity lists them).
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any, Sequence

from judgeaudit import __version__
from judgeaudit.contracts import JudgeIdentity
from judgeaudit.runstore import content_hash

_WEIGHT_SUFFIXES = (".safetensors", ".bin", ".gguf", ".pt", ".pth")
_CHUNK = 1 << 20


def file_sha256(path: str | Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(_CHUNK), b""):
            digest.update(block)
    return digest.hexdigest()


def weights_hash(location: str | Path) -> str:
    """sha256 of a weight file, or of a directory's weight files (names and contents, sorted)."""
    path = Path(location)
    if path.is_file():
        return "sha256:" + file_sha256(path)
    digest = hashlib.sha256()
    for f in sorted(p for p in path.iterdir() if p.is_file() and (p.suffix in _WEIGHT_SUFFIXES or p.name == "config.json")):
        digest.update(f.name.encode("utf-8") + b"\0" + file_sha256(f).encode("ascii"))
    return "sha256:" + digest.hexdigest()


def resolved_model(judge: Any) -> str | None:
    """The weights a local judge loaded (file hash, or hub id at its revision); the API model for API judges."""
    lm = getattr(judge, "lm", None)
    resolved = getattr(lm, "resolved", None)
    if resolved is not None:
        if resolved.kind == "hub":
            revision = getattr(getattr(lm.model, "config", None), "_commit_hash", None)
            return f"hub:{resolved.location}@{revision or 'unknown'}"
        try:
            return weights_hash(resolved.location)
        except OSError:
            return f"{resolved.kind}:{resolved.location}"
    model = getattr(judge, "model", None)
    if isinstance(model, str):
        return f"api:{model}@{getattr(judge, 'endpoint', '') or ''}"
    return None


def pairs_hash(pairs: Sequence[Any]) -> str:
    """sha256 over the probe pairs a run judges (ids and texts), in order."""
    def get(p, name):
        return p[name] if isinstance(p, dict) else getattr(p, name)

    return content_hash([[get(p, f) for f in ("pair_id", "probe", "prompt", "base", "perturbed")] for p in pairs])


def judge_identity(judge: Any, *, spec: str, mode: str | None, pairs: Sequence[Any]) -> JudgeIdentity:
    ident = dict(getattr(judge, "identity", None) or {})
    template = getattr(judge, "template", None)
    sampling = {k: v for k, v in ident.items() if k not in ("name", "template", "mode", "endpoint")}
    params = sampling.pop("params", None)
    if isinstance(params, dict):
        sampling.update(params)
    return JudgeIdentity(
        spec=spec, name=str(getattr(judge, "name", spec)), model=resolved_model(judge),
        template=getattr(judge, "template_name", None) or "pairwise",
        template_hash=getattr(template, "digest", None), mode=mode, sampling=sampling,
        toolkit_version=__version__, items_hash=pairs_hash(pairs),
    )



def identity_differences(runs: Sequence[dict[str, Any]], names: Sequence[str] | None = None) -> list[str]:
    """One line per judge-identity field in which a run differs from the first.

    The run settings (battery, seed, limit, repeats, template) are compared by
    ``judgeaudit.audit.comparison_warnings``.
    """
    if len(runs) < 2:
        return []
    names = list(names) if names is not None else [f"run {i + 1}" for i in range(len(runs))]

    def fields(r: dict[str, Any]) -> dict[str, Any]:
        ident = r.get("judge_identity") or {}
        return {f"judge {k}": v for k, v in ident.items()}

    first = fields(runs[0])
    lines = []
    for name, r in zip(names[1:], runs[1:]):
        other = fields(r)
        for key in sorted(set(first) | set(other)):
            if first.get(key) != other.get(key):
                lines.append(f"{names[0]} and {name} differ in {key}: {_short(first.get(key))} vs {_short(other.get(key))}")
    return lines


def _short(value: Any, limit: int = 60) -> str:
    text = "missing" if value is None else str(value)
    return text if len(text) <= limit else text[:limit - 1] + "…"
