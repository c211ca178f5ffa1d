"""``make_judge(spec)``: one string names any judge.

- ``synthetic:KIND`` (options after ``?``, e.g. ``synthetic:position?p=0.8``);
- ``reward:SPEC`` -> a sequence-classification reward model (``?scale=S`` or ``reward_scale``);
- ``likelihood:MODEL`` -> the model's own log-likelihood of each answer (``?normalize=none``,
  ``?scale=S``, or the ``normalize`` / ``reward_scale`` options);
- ``jury:SPEC1,SPEC2,...[:vote=mean|majority]`` -> every member judges, distributions combined
  (grammar in ``judges/jury.py``); the other options go to every member;
- ``openai-completions:NAME`` with ``api_base`` -> local-style judge on a served model
  (logprob or generative mode through the completions endpoint);
- ``openai:NAME``, a bare OpenAI model name (``gpt-…``, ``chatgpt-…``, ``o1…``, ``o3…``,
  ``o4…``), or any spec given together with ``api_base`` -> API judge;
- ``module:attribute`` or ``path/to/file.py:attribute`` -> plugin judge;
- anything else (``smollm2``, a HF id, a local directory, a ``.gguf`` file) -> local judge.
"""

from __future__ import annotations

import os
from typing import Any
from urllib.parse import parse_qsl

from judgeaudit.errors import JudgeauditError


# (spec pattern, kind, what it is): every family make_judge understands, for `judgeaudit judges list`.
_FAMILIES: tuple[tuple[str, str, str], ...] = (
    ("smollm2 | HF id | dir | file.gguf", "local", "open-weight model; --mode logprob (default) or generative"),
    ("gpt-4-1106-preview, gpt-4o, o3-mini, …", "api", "OpenAI API with $OPENAI_API_KEY"),
    ("NAME --api-base URL", "api", "any OpenAI-compatible server (vLLM, llama.cpp, Ollama)"),
    ("synthetic:KIND", "synthetic", ""),
    ("reward:HF-ID | reward:DIR", "reward", "sequence-classification reward model; reward difference through a "
                                            "logistic link (--reward-scale, default 1)"),
    ("likelihood:smollm2 | likelihood:MODEL", "likelihood", "prefers the answer with the higher mean per-token "
                                                            "log-prob given the prompt (--normalize none: total)"),
    ("jury:SPEC1,SPEC2[,...][:vote=mean|majority]", "jury", "every member judges; distributions averaged (mean) "
                                                           "or majority verdict; per-member indices reported"),
    ("module:attr | file.py:attr", "plugin", "your object or factory with judge_pair or judge_batch"),
)


def judge_families() -> list[tuple[str, str, str]]:
    """(spec, kind, behaviour) rows for each judge family, synthetic kinds spelled out."""
    from judgeaudit.judges.synthetic import KINDS

    rows: list[tuple[str, str, str]] = []
    for spec, kind, what in _FAMILIES:
        if spec == "synthetic:KIND":
            rows += [(f"synthetic:{k}" + ("?p=0.8" if k == "position" else ""), kind, d) for k, d in KINDS.items()]
        else:
            rows.append((spec, kind, what))
    return rows


def _split_options(spec: str) -> tuple[str, dict[str, str]]:
    base, sep, query = spec.partition("?")
    return base, (dict(parse_qsl(query, keep_blank_values=True)) if sep else {})


def judge_kind(spec: str, api_base: str | None = None) -> str:
    """Which family a spec belongs to: synthetic, reward, likelihood, jury, api, plugin or local."""
    from judgeaudit.judges.api import is_openai_model_name

    if spec.startswith("synthetic:"):
        return "synthetic"
    for prefix in ("reward", "likelihood", "jury"):
        if spec.startswith(prefix + ":"):
            return prefix
    if spec.startswith("openai-completions:"):
        return "local"  # a served model read like a local one (verdict log-probs through completions)
    if api_base or spec.startswith("openai:") or is_openai_model_name(spec):
        return "api"
    if ":" in spec and not os.path.exists(spec) and not (len(spec) > 1 and spec[1] == ":" and spec[0].isalpha()):
        return "plugin"
    return "local"


def make_judge(spec: str, *, template: str = "pairwise", mode: str = "logprob", api_base: str | None = None,
               api_key_env: str | None = None, concurrency: int = 8, cache_dir: str | os.PathLike | None = None,
               seed: int = 0, **options: Any):
    """The judge a spec names. Extra ``options`` go to the judge's constructor."""
    if not isinstance(spec, str) or not spec.strip():
        raise JudgeauditError("judge spec is empty; try 'smollm2', 'synthetic:oracle' or 'gpt-4-1106-preview'")
    spec = spec.strip()
    kind = judge_kind(spec, api_base)
    # Options of the pointwise judges; never passed to the other constructors.
    reward_scale = options.pop("reward_scale", None)
    normalize = options.pop("normalize", None)
    if kind == "jury":
        from judgeaudit.judges.jury import JuryJudge, parse_jury_spec

        parsed = parse_jury_spec(spec)
        members = [make_judge(m, template=template, mode=mode, api_base=api_base, api_key_env=api_key_env,
                              concurrency=concurrency, cache_dir=cache_dir, seed=seed, reward_scale=reward_scale,
                              normalize=normalize, **options) for m in parsed.members]
        return JuryJudge(members, vote=parsed.vote)
    if kind in ("reward", "likelihood"):
        return _pointwise_judge(kind, spec, reward_scale=reward_scale, normalize=normalize, **options)
    if kind == "synthetic":
        from judgeaudit.judges.synthetic import KINDS, SyntheticJudge

        base, opts = _split_options(spec)
        name = base.split(":", 1)[1]
        if name not in KINDS:
            raise JudgeauditError(f"unknown synthetic judge {name!r}; choose one of "
                                  + ", ".join(f"synthetic:{k}" for k in KINDS))
        unknown = set(opts) - {"p", "seed"}
        if unknown:
            raise JudgeauditError(f"judge {spec!r}: unknown option(s) {', '.join(sorted(unknown))} (known: p, seed)")
        try:
            p = float(opts.get("p", options.get("p", 0.8)))
            seed = int(opts.get("seed", seed))
        except ValueError as exc:
            raise JudgeauditError(f"judge {spec!r}: bad option value ({exc})") from None
        if not 0.0 <= p <= 1.0:
            raise JudgeauditError(f"judge {spec!r}: p must lie in [0, 1], got {p}")
        return SyntheticJudge(name, seed=seed, p=p)
    if kind == "api":
        from judgeaudit.judges.api import APIJudge

        model = spec[len("openai:"):] if spec.startswith("openai:") else spec
        return APIJudge(model, template=template, api_base=api_base, api_key_env=api_key_env, concurrency=concurrency,
                        cache_dir=cache_dir, seed=seed, **options)
    if kind == "plugin":
        from judgeaudit.judges.plugin import load_plugin

        return load_plugin(spec)
    from judgeaudit.judges.local import LocalJudge

    if spec.startswith("openai-completions:"):
        options.update(api_base=api_base, api_key_env=api_key_env)
    return LocalJudge(options.pop("model", None) or spec, template=template, mode=mode, **options)


def _pointwise_judge(kind: str, spec: str, *, reward_scale: Any = None, normalize: str | None = None, **options: Any):
    """``reward:SPEC`` or ``likelihood:MODEL``, options after ``?`` overriding the command-line ones."""
    base, opts = _split_options(spec)
    model = base.split(":", 1)[1].strip()
    if not model:
        raise JudgeauditError(f"judge {spec!r}: names no model; expected {kind}:MODEL")
    known = {"scale"} | ({"normalize"} if kind == "likelihood" else set())
    unknown = set(opts) - known
    if unknown:
        raise JudgeauditError(f"judge {spec!r}: unknown option(s) {', '.join(sorted(unknown))} "
                              f"(known: {', '.join(sorted(known))})")
    from judgeaudit.judges.score_link import check_scale

    try:
        scale = check_scale(opts.get("scale", reward_scale), f"judge {spec!r}")
    except ValueError as exc:
        raise JudgeauditError(str(exc)) from None
    local = {k: options[k] for k in ("dtype", "device", "trust_remote_code", "batch_size") if k in options}
    if kind == "reward":
        from judgeaudit.judges.reward import RewardJudge

        return RewardJudge(model, scale=scale, **local)
    from judgeaudit.judges.likelihood import NORMALIZATIONS, LikelihoodJudge

    how = opts.get("normalize", normalize) or "mean"
    if how not in NORMALIZATIONS:
        raise JudgeauditError(f"judge {spec!r}: normalize must be one of {', '.join(NORMALIZATIONS)}, got {how!r}")
    return LikelihoodJudge(model, normalize=how, scale=scale, progress=bool(options.get("progress", False)), **local)
