"""An arena run from start to finish, and the audit of existing logs.

    from judgeaudit.arena.run import run_arena
    run = run_arena("synthetic:longer", answers="data/model_answer", questions="data/question.jsonl",
                    baseline="gpt-4-0314", out="runs/arena")
    run.results["models"]

Every model is judged against the baseline on every question in both orders through the
judge runner (records.jsonl keyed by content hash: a rerun resumes), then scored.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, Sequence

from judgeaudit.arena.fitting import DEFAULT_BT_RESAMPLES, fit_arena
from judgeaudit.arena.games import arena_hard_lines, arena_pairs, games_from_records
from judgeaudit.arena.layouts import Corpus, load_corpus
from judgeaudit.arena.logs import read_logs
from judgeaudit.arena.ratings import fit_ratings
from judgeaudit.arena.results import build_results, write_outputs
from judgeaudit.errors import JudgeauditError
from judgeaudit.runstore import ConfigMismatch, RunStore, default_run_dir, locked, slug, write_atomic
from judgeaudit.stats.bootstrap import DEFAULT_LEVEL

TEMPLATES = ("pairwise", "pairwise-ref")
# Settings that make a run directory's judgments what they are; a resume must match them.
IDENTITY_KEYS = ("judge", "template", "mode", "api_base", "baseline", "reference")


@dataclass
class ArenaRun:
    dir: Path
    results: dict[str, Any]
    wall_s: float
    n_judged_now: int = 0


def template_spec(template: str) -> str:
    if template == "pairwise":
        return "pairwise"
    if template == "pairwise-ref":
        return str(resources.files("judgeaudit.arena").joinpath("templates", "pairwise_ref.yaml"))
    raise JudgeauditError(f"unknown template {template!r}; choose one of {', '.join(TEMPLATES)}")


@dataclass
class ArenaPlan:
    corpus: Corpus
    models: list[str]
    question_ids: list[str]
    pairs: list[dict[str, Any]]
    n_missing: int


def plan_arena(*, answers: str | os.PathLike, questions: str | os.PathLike | None, baseline: str,
               models: Sequence[str] | None = None, limit: int | None = None, fmt: str | None = None,
               reference: str | None = None) -> ArenaPlan:
    corpus = load_corpus(questions, answers, fmt)
    known = sorted(corpus.answers)
    for name, role in [(baseline, "baseline")] + ([(reference, "reference")] if reference else []):
        if name not in corpus.answers:
            raise JudgeauditError(f"{role} {name!r} has no answers in {answers} (models: {', '.join(known)})")
    chosen = list(models) if models else [m for m in known if m not in (baseline, reference)]
    for m in chosen:
        if m not in corpus.answers:
            raise JudgeauditError(f"model {m!r} has no answers in {answers} (models: {', '.join(known)})")
    if not chosen:
        raise JudgeauditError(f"no models to judge besides the baseline in {answers}")
    need = [baseline] + ([reference] if reference else [])
    qids = [q for q in corpus.questions if all(q in corpus.answers[m] for m in need)]
    if limit is not None:
        qids = qids[:limit]
    if not qids:
        raise JudgeauditError("no question has the baseline's (and reference's) answer")
    pairs, missing = [], 0
    for m in chosen:
        have = [q for q in qids if q in corpus.answers[m]]
        missing += 2 * (len(qids) - len(have))  # Arena-Hard-Auto skips such questions too, with a warning
        pairs += arena_pairs(corpus, [m], baseline, have, reference)
    return ArenaPlan(corpus, chosen, qids, pairs, missing)


def estimate_arena(judge: str, *, template: str = "pairwise", mode: str = "logprob", api_base: str | None = None,
                   api_key_env: str | None = None, out: str | os.PathLike | None = None, seed: int = 0,
                   **plan_kw: Any) -> dict[str, Any]:
    """What a run would do, calling no judge: judgments and (API judges) requests and cost."""
    from judgeaudit.judges import estimate_judgments, judge_kind, make_judge

    plan = plan_arena(**plan_kw)
    kind = judge_kind(judge, api_base)
    info: dict[str, Any] = {"judge": judge, "judge_kind": kind, "models": len(plan.models),
                            "questions": len(plan.question_ids), "pairs": len(plan.pairs),
                            "judgments": 2 * len(plan.pairs), "missing": plan.n_missing}
    if kind in ("api", "synthetic", "plugin"):
        store = RunStore(out, readonly=True) if out is not None and Path(out).exists() else None
        extra = {"dry_run": True} if kind == "api" else {}
        j = make_judge(judge, template=template_spec(template), mode=mode, api_base=api_base,
                       api_key_env=api_key_env, seed=seed, **extra)
        info.update(estimate_judgments(j, plan.pairs, store))
        info["judge"] = judge
    return info


def run_arena(judge: str, *, answers: str | os.PathLike, questions: str | os.PathLike | None, baseline: str,
              models: Sequence[str] | None = None, limit: int | None = None, fmt: str | None = None,
              template: str = "pairwise", reference: str | None = None, strong_weight: float = 1.0,
              out: str | os.PathLike | None = None, mode: str = "logprob", api_base: str | None = None,
              api_key_env: str | None = None, concurrency: int = 8, seed: int = 0,
              resamples: int = DEFAULT_BT_RESAMPLES, level: float = DEFAULT_LEVEL, progress: bool = True,
              judge_obj: Any = None, ranks: Any = None) -> ArenaRun | None:
    """Judge every model against the baseline in both orders, then fit and write the results.

    Under torchrun (``ranks`` with world > 1) the judgments are shared out over the ranks;
    rank 0 merges them, fits and writes; the other ranks return None.
    """
    from judgeaudit.judges.pair_judging import run_usage
    from judgeaudit.engine import distributed
    from judgeaudit.judges import judge_kind, make_judge, run_judgments

    start = time.perf_counter()
    if template == "pairwise-ref" and not reference:
        raise JudgeauditError("--template pairwise-ref needs --reference MODEL (whose answers are the reference)")
    plan = plan_arena(answers=answers, questions=questions, baseline=baseline, models=models, limit=limit, fmt=fmt,
                      reference=reference if template == "pairwise-ref" else None)
    out_dir = Path(out) if out is not None else default_run_dir(judge, prefix="arena-")
    ranks = ranks or distributed.Ranks()
    config = {"judge": judge, "template": template, "mode": mode, "api_base": api_base, "baseline": baseline,
              "reference": reference if template == "pairwise-ref" else None, "answers": str(Path(answers).resolve()),
              "questions": str(Path(questions).resolve()) if questions else None, "format": plan.corpus.fmt,
              "models": plan.models, "limit": limit}
    device = {}
    if judge_obj is None and ranks.distributed and judge_kind(judge, api_base) == "local":
        device = {"device": distributed.rank_device("auto", ranks)}  # each rank on its own GPU
    # One process holds the run directory (under torchrun rank 0, the one writer, for all ranks).
    with locked(out_dir) if ranks.is_main else contextlib.nullcontext():
        # The judge is built (spec, key, endpoint checked) before config.json is written.
        j = judge_obj if judge_obj is not None else make_judge(
            judge, template=template_spec(template), mode=mode, api_base=api_base, api_key_env=api_key_env,
            concurrency=concurrency, seed=seed, **device)
        if ranks.is_main:  # one writer of config.json and records.jsonl
            store = RunStore(out_dir)
            try:
                store.init_config(config, identity_keys=IDENTITY_KEYS)
            except ConfigMismatch as exc:
                raise JudgeauditError(str(exc)) from None
        distributed.barrier(ranks)
        if not ranks.is_main:
            store = RunStore(out_dir)
        before = len(store.keys)
        records = run_judgments(j, plan.pairs, store, concurrency=concurrency, progress=progress, ranks=ranks)
        if not ranks.is_main:
            return None
        games = games_from_records(records, baseline)
        fit = fit_arena(games, baseline, strong_weight=strong_weight, resamples=resamples, level=level, seed=seed)
        wall = time.perf_counter() - start
        n_unparsed = sum(not r["parsed"] for r in records)
        usage = run_usage(records)
        results = build_results(
            fit, kind="pairwise", judge=j.name, baseline=baseline,
            source={"command": "arena", "format": plan.corpus.fmt, "template": template, "judge_spec": judge,
                    "models_judged": plan.models},
            strong_weight=strong_weight, resamples=resamples, level=level, seed=seed, n_unparsed=n_unparsed,
            n_missing=plan.n_missing, extra={"run": {"wall_s": round(wall, 1), **usage}})
        # The judgments in Arena-Hard-Auto's own layout, so `judgeaudit logs` and its tools read them.
        lines = arena_hard_lines(records, j.name, baseline, {q: plan.corpus.questions[q].category
                                                             for q in plan.question_ids})
        jdir = out_dir / "model_judgment" / slug(j.name)
        for model, rows in lines.items():
            write_atomic(jdir / f"{model}.jsonl", "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))
        write_outputs(out_dir, results)
    return ArenaRun(out_dir, results, wall, len(store.keys) - before)


def run_logs(fmt: str, judgments: str | os.PathLike, *, answers: str | os.PathLike | None = None,
             questions: str | os.PathLike | None = None, baseline: str | None = None,
             out: str | os.PathLike | None = None, strong_weight: float = 1.0,
             resamples: int = DEFAULT_BT_RESAMPLES, level: float = DEFAULT_LEVEL, seed: int = 0,
             answers_format: str | None = None) -> ArenaRun:
    """Audit existing judgments: everything is read and checked before anything is written."""
    start = time.perf_counter()
    corpus = load_corpus(questions, answers, answers_format) if answers is not None else None
    data = read_logs(fmt, judgments, corpus, baseline)
    if data.kind == "single":
        if not any(r.score is not None for r in data.ratings):
            raise JudgeauditError(f"{judgments}: no parsed rating")
        fit = fit_ratings(data.ratings, resamples=resamples, level=level, seed=seed)
    else:
        if not any(g.parsed for g in data.games):
            raise JudgeauditError(f"{judgments}: no parsed judgment")
        players = {g.model_a for g in data.games} | {g.model_b for g in data.games}
        if data.baseline not in players:
            raise JudgeauditError(f"{judgments}: baseline {data.baseline!r} plays in no game "
                                  f"(models: {', '.join(sorted(players))})")
        fit = fit_arena(data.games, data.baseline, strong_weight=strong_weight, resamples=resamples, level=level,
                        seed=seed)
    results = build_results(
        fit, kind=data.kind, judge=data.judge, baseline=data.baseline,
        source={"command": "logs", "format": fmt, "sources": data.sources},
        strong_weight=strong_weight, resamples=resamples, level=level, seed=seed,
        n_unparsed=data.n_unparsed, n_missing=data.n_missing)
    out_dir = Path(out) if out is not None else default_run_dir(fmt, prefix="logs-")
    write_outputs(out_dir, results)
    return ArenaRun(out_dir, results, time.perf_counter() - start)
