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
from dataclasses import dataclass
from typing import Any, Callable
from urllib.parse import parse_qsl

from judgeaudit.errors import JudgeauditError
from judgeaudit.registry import Registry


@dataclass(frozen=True)
class JudgeFamily:
    build: Callable[..., Any]  # build(spec, **settings) -> judge
    rows: Callable[[], list[tuple[str, str]]]  # (spec pattern, what it is) rows for `judgeaudit judges list`


# kind -> family: every family make_judge understands, in the order `judgeaudit judges list` shows them.
JUDGE_FAMILIES: Registry[JudgeFamily] = Registry("judge family")


def judge_family(kind: str, *rows: tuple[str, str], list_rows: Callable[[], list[tuple[str, str]]] | None = None
                 ) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register the decorated builder as family ``kind``; ``rows`` (or ``list_rows()``) describe its specs."""
    def deco(build: Callable[..., Any]) -> Callable[..., Any]:
        JUDGE_FAMILIES.register(kind, JudgeFamily(build, list_rows or (lambda: list(rows))))
        return build
    return deco


def judge_families() -> list[tuple[str, str, str]]:
    """(spec, kind, behaviour) rows for each judge family, synthetic kinds spelled out."""
    return [(spec, kind, what) for kind, family in JUDGE_FAMILIES.items() for spec, what in family.rows()]


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
    if kind not in POINTWISE_OPTION_FAMILIES:  # options of the pointwise judges reach only them
        options = {k: v for k, v in options.items() if k not in ("reward_scale", "normalize")}
    build = JUDGE_FAMILIES[kind].build
    return build(spec, template=template, mode=mode, api_base=api_base, api_key_env=api_key_env,
                 concurrency=concurrency, cache_dir=cache_dir, seed=seed, **options)


@judge_family("local", ("smollm2 | HF id | dir | file.gguf", "open-weight model; --mode logprob (default) or generative"))
def _local(spec: str, *, template: str, mode: str, api_base: str | None, api_key_env: str | None, concurrency: int,
           cache_dir: str | os.PathLike | None, seed: int, **options: Any):
    from judgeaudit.judges.local import LocalJudge

    # A served model read through its completions endpoint needs the API settings; a local one reads none.
    if spec.startswith("openai-completions:"):
        options.update(api_base=api_base, api_key_env=api_key_env)
    return LocalJudge(options.pop("model", None) or spec, template=template, mode=mode, **options)


@judge_family("api", ("gpt-4-1106-preview, gpt-4o, o3-mini, …", "OpenAI API with $OPENAI_API_KEY"),
              ("NAME --api-base URL", "any OpenAI-compatible server (vLLM, llama.cpp, Ollama)"))
def _api(spec: str, *, mode: str, **options: Any):
    from judgeaudit.judges.api import APIJudge

    model = spec[len("openai:"):] if spec.startswith("openai:") else spec
    return APIJudge(model, **options)


def _synthetic_rows() -> list[tuple[str, str]]:
    from judgeaudit.judges.synthetic import BEHAVIOURS

    return [(f"synthetic:{k}" + ("?p=0.8" if k == "position" else ""), b.description) for k, b in BEHAVIOURS.items()]


@judge_family("synthetic", list_rows=_synthetic_rows)
def _synthetic(spec: str, *, seed: int, **options: Any):
    from judgeaudit.judges.synthetic import BEHAVIOURS, SyntheticJudge

    base, opts = _split_options(spec)
    name = base.split(":", 1)[1]
    if name not in BEHAVIOURS:
        raise JudgeauditError(f"unknown synthetic judge {name!r}; choose one of "
                              + ", ".join(f"synthetic:{k}" for k in BEHAVIOURS))
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


# Families whose builders take the pointwise options (reward_scale, normalize).
POINTWISE_OPTION_FAMILIES = ("reward", "likelihood", "jury")


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


@judge_family("reward", ("reward:HF-ID | reward:DIR", "sequence-classification reward model; reward difference "
                                                      "through a logistic link (--reward-scale, default 1)"))
def _reward(spec: str, *, template: str, mode: str, api_base: str | None, api_key_env: str | None,
            concurrency: int, cache_dir: str | os.PathLike | None, seed: int, **options: Any):
    return _pointwise_judge("reward", spec, **options)


@judge_family("likelihood", ("likelihood:smollm2 | likelihood:MODEL", "prefers the answer with the higher mean "
                                                                     "per-token log-prob given the prompt "
                                                                     "(--normalize none: total)"))
def _likelihood(spec: str, *, template: str, mode: str, api_base: str | None, api_key_env: str | None,
                concurrency: int, cache_dir: str | os.PathLike | None, seed: int, **options: Any):
    return _pointwise_judge("likelihood", spec, **options)


@judge_family("jury", ("jury:SPEC1,SPEC2[,...][:vote=mean|majority]", "every member judges; distributions averaged "
                                                                      "(mean) or majority verdict; per-member "
                                                                      "indices reported"))
def _jury(spec: str, **settings: Any):
    from judgeaudit.judges.jury import JuryJudge, parse_jury_spec

    parsed = parse_jury_spec(spec)
    return JuryJudge([make_judge(m, **settings) for m in parsed.members], vote=parsed.vote)


@judge_family("plugin", ("module:attr | file.py:attr", "your object or factory with judge_pair or judge_batch"))
def _plugin(spec: str, **_settings: Any):
    from judgeaudit.judges.plugin import load_plugin

    return load_plugin(spec)
