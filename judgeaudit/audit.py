"""A probe run from start to finish: pairs -> judgments (resumable) -> statistics -> report.

    from judgeaudit.audit import run_probe
    run = run_probe("synthetic:longer", battery="quick", limit=20, out="runs/longer")
    run.results["indices"]

    outcome = run_audit("synthetic:longer", battery="quick", limit=20)
    outcome.passed, outcome.exit_code

The CLI commands `probe`, `audit`, `report` and `compare` are thin layers over these functions.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Sequence

from judgeaudit.contracts import ProbeResults, validate_line
from judgeaudit.errors import InputError, JudgeauditError
from judgeaudit.judges.protocol import BaseJudge
from judgeaudit.judges.request_cache import public_endpoint
from judgeaudit.runstore import RunStore, default_run_dir, locked, read_records
from judgeaudit.stats.bootstrap import DEFAULT_LEVEL, DEFAULT_RESAMPLES

# Settings that make a run directory's judgments what they are; a resume must match them.
IDENTITY_KEYS = ("judge", "template", "mode", "battery", "seed", "items", "api_base", "rewrite_with",
                 "rewrite_api_base", "verdict_logprobs")


@dataclass
class ProbeRun:
    dir: Path
    results: dict[str, Any]
    n_pairs: int
    skipped: list[Any] = field(default_factory=list)
    wall_s: float = 0.0
    judge: BaseJudge | None = None


def build_probe_pairs(*, battery: str = "default", items: str | os.PathLike | None = None, limit: int | None = None,
                      seed: int = 0):
    """The battery's pairs over the items (packaged seed items when ``items`` is None)."""
    from judgeaudit.probes.items import load_items
    from judgeaudit.probes.pairs import make_pairs

    pair_set = make_pairs(load_items(items) if items is not None else None, battery, seed, limit)
    if not pair_set.pairs:
        raise JudgeauditError(f"battery {battery!r} produced no pairs for these items")
    return pair_set


def _config(judge: str, *, template: str, mode: str, battery: str, seed: int, items: Any, api_base: str | None,
            limit: int | None, repeats: int, rewrite_with: str | None = None,
            rewrite_api_base: str | None = None, verdict_logprobs: bool | None = None) -> dict[str, Any]:
    config = {"judge": judge, "template": template, "mode": mode, "battery": battery, "seed": seed,
              "items": str(Path(items).resolve()) if items is not None else None,
              # Only the public part of the endpoint is written: a URL may carry user:KEY@ or ?api-key=KEY.
              "api_base": public_endpoint(api_base) if api_base else None,
              "limit": limit, "repeats": repeats}
    # Optional settings are only set when used, so run directories made before them still resume.
    if rewrite_with:
        config.update(rewrite_with=rewrite_with, rewrite_api_base=rewrite_api_base)
    if verdict_logprobs is not None:
        config["verdict_logprobs"] = verdict_logprobs
    return config


def _rank_options(kind: str, ranks: Any) -> dict[str, Any]:
    """Under torchrun a local judge loads on its rank's own GPU."""
    if kind != "local" or not ranks.distributed:
        return {}
    from judgeaudit.engine.distributed import rank_device

    return {"device": rank_device("auto", ranks)}


def _judge_options(kind: str, verdict_logprobs: bool | None) -> dict[str, Any]:
    """Constructor options that only some judge kinds take."""
    return {"logprobs": verdict_logprobs} if kind == "api" and verdict_logprobs is not None else {}


def estimate_probe(judge: str, *, battery: str = "default", items: str | os.PathLike | None = None,
                   limit: int | None = None, seed: int = 0, template: str = "pairwise", mode: str = "logprob",
                   api_base: str | None = None, api_key_env: str | None = None, repeats: int = 1,
                   out: str | os.PathLike | None = None, rewrite_with: str | None = None,
                   verdict_logprobs: bool | None = None) -> dict[str, Any]:
    """What a run would do, calling no judge: pairs, judgments and (API judges) requests and cost.

    Local models are not loaded for this; only API and synthetic judges are built.
    """
    from judgeaudit.judges import estimate_judgments, judge_kind, make_judge
    from judgeaudit.stats.power import battery_power

    pair_set = build_probe_pairs(battery=battery, items=items, limit=limit, seed=seed)
    kind = judge_kind(judge, api_base)
    out_info: dict[str, Any] = {"judge": judge, "judge_kind": kind, "battery": battery, "seed": seed,
                                "items": len({p.item_id for p in pair_set.pairs}), "pairs": len(pair_set.pairs),
                                "skipped_pairs": len(pair_set.skipped), "repeats": repeats,
                                "judgments": 2 * repeats * len(pair_set.pairs),
                                "power": battery_power(pair_set.pairs)}
    if rewrite_with:
        from judgeaudit.probes.rewrite import rewrite_target

        out_info["rewrite_with"] = rewrite_with
        out_info["rewrite_requests"] = sum(1 for p in pair_set.pairs if rewrite_target(p) is not None)
    if kind in ("api", "synthetic"):
        store = RunStore(out, readonly=True) if out is not None and Path(out).exists() else None
        extra = {"dry_run": True} if kind == "api" else {}  # no API key needed to count
        j = make_judge(judge, template=template, mode=mode, api_base=api_base, api_key_env=api_key_env, seed=seed,
                       **extra, **_judge_options(kind, verdict_logprobs))
        out_info.update(estimate_judgments(j, pair_set.pairs, store, repeats))
        out_info["judge"] = judge
    return out_info


def run_probe(judge: str, *, battery: str = "default", items: str | os.PathLike | None = None,
              limit: int | None = None, seed: int = 0, out: str | os.PathLike | None = None,
              template: str = "pairwise", mode: str = "logprob", api_base: str | None = None,
              api_key_env: str | None = None, concurrency: int = 8, repeats: int = 1,
              resamples: int = DEFAULT_RESAMPLES, level: float = DEFAULT_LEVEL, progress: bool = True,
              judge_obj: Any = None, rewrite_with: str | None = None, rewrite_api_base: str | None = None,
              rewrite_api_key_env: str | None = None, rewriter: Any = None, verdict_logprobs: bool | None = None,
              ranks: Any = None, max_wait: float | None = None,
              judge_options: dict[str, Any] | None = None) -> ProbeRun | None:
    """Judge every pair of the battery in both orders, then write results.json and report.html.

    Rerunning with the same ``out`` resumes: judgments already in records.jsonl are kept.
    ``judge_obj`` supplies an already built judge (its spec string is still recorded);
    ``judge_options`` go to ``make_judge`` (e.g. ``reward_scale``, ``normalize``).
    ``rewrite_with`` names a model that restyles the rewritable style steps (see
    judgeaudit.probes.rewrite); ``rewriter`` supplies it already built.
    Under torchrun (``ranks`` with world > 1, local judges) the judgments are shared out
    over the ranks; rank 0 writes the results and the others return None.
    ``max_wait`` caps the seconds an API request waits between retries (None: the judge's default).
    """
    from judgeaudit.judges import judge_kind, make_judge, run_judgments
    from judgeaudit.judges.pair_judging import run_usage
    from judgeaudit.judges.identity import judge_identity
    from judgeaudit.judges.protocol import as_judge
    from judgeaudit.reports.html import render_report
    from judgeaudit.stats.probe_results import compute_results

    start = time.perf_counter()
    pair_set = build_probe_pairs(battery=battery, items=items, limit=limit, seed=seed)
    out_dir = Path(out) if out is not None else default_run_dir(judge)
    from judgeaudit.engine.distributed import Ranks, barrier

    ranks = ranks or Ranks()
    config = _config(judge, template=template, mode=mode, battery=battery, seed=seed, items=items,
                     api_base=api_base, limit=limit, repeats=repeats, rewrite_with=rewrite_with,
                     rewrite_api_base=rewrite_api_base, verdict_logprobs=verdict_logprobs)
    if rewrite_with and ranks.distributed:
        # Rewrites are model calls made once per run; sharing them over ranks is not supported.
        raise JudgeauditError("--rewrite-with cannot be combined with torchrun; run the rewrites in one process first")
    if judge_obj is None and judge.startswith("jury:"):
        from judgeaudit.judges.jury import parse_jury_spec

        parse_jury_spec(judge)  # a bad jury spec must not leave a run directory behind
    # One process holds the run directory (under torchrun rank 0, the one writer, for all ranks).
    with locked(out_dir) if ranks.is_main else contextlib.nullcontext():
        # The judge is built (spec, key, endpoint checked) before config.json is written; a run
        # that fails before its first record can be rerun with corrected settings (init_config).
        kind = judge_kind(judge, api_base)
        api_options = {"max_wait": max_wait} if max_wait is not None and kind == "api" else {}
        j = as_judge(judge_obj) if judge_obj is not None else make_judge(
            judge, template=template, mode=mode, api_base=api_base, api_key_env=api_key_env,
            concurrency=concurrency, seed=seed, **_judge_options(kind, verdict_logprobs),
            **_rank_options(kind, ranks), **api_options, **(judge_options or {}))
        if ranks.is_main:  # one writer of config.json and records.jsonl
            store = RunStore(out_dir)
            store.init_config(config, identity_keys=IDENTITY_KEYS)
        barrier(ranks)
        if not ranks.is_main:
            store = RunStore(out_dir)
        pairs, rewrites = pair_set.pairs, None
        if rewrite_with:
            from judgeaudit.probes.rewrite import apply_rewrites, make_rewriter

            model = rewriter if rewriter is not None else make_rewriter(
                rewrite_with, api_base=rewrite_api_base, api_key_env=rewrite_api_key_env, concurrency=concurrency,
                progress=progress, seed=seed)
            pairs, summary = apply_rewrites(pair_set.pairs, model, out_dir / "rewrites", progress=progress,
                                            spec=rewrite_with)
            rewrites = summary.to_dict()
        identity = judge_identity(j, spec=judge, mode=mode if _is_local(judge, api_base) else None,
                                  pairs=pairs).to_json()
        if ranks.is_main:  # the run's config with what only the built judge and the final pairs tell
            store.init_config({**config, "judge_identity": identity, **({"rewrites": rewrites} if rewrites else {})},
                              identity_keys=IDENTITY_KEYS)
        records = run_judgments(j, pairs, store, repeats=repeats, concurrency=concurrency, progress=progress,
                                ranks=ranks)
        if not ranks.is_main:
            return None
        usage = run_usage(records)
        wall = time.perf_counter() - start
        run_info = {"judge_spec": judge, "mode": mode if _is_local(judge, api_base) else None, "repeats": repeats,
                    "limit": limit, "skipped_pairs": len(pair_set.skipped), **usage, "wall_s": round(wall, 1),
                    "rewrites": rewrites, "judge_notes": list(j.notes) or None}
        results = compute_results(records, judge=j.name, battery=battery, seed=seed, template=template,
                                  resamples=resamples, level=level,
                                  run={k: v for k, v in run_info.items() if v is not None}, judge_identity=identity)
        store.write_results(results)
        store.write_report(render_report(results))
    return ProbeRun(out_dir, results, len(pairs), pair_set.skipped, wall, j)


@dataclass
class AuditOutcome:
    """An audit: the policy, each judge's run, and each judge's policy checks (same order)."""

    policy: Any
    runs: list[ProbeRun]
    checks: list[list[Any]]

    @property
    def passed(self) -> bool:
        """The audited judge (the first) passes every check of the policy."""
        return all(c.passed for c in self.checks[0])

    @property
    def exit_code(self) -> int:
        return 0 if self.passed else 1


def run_audit(judge: str, *, policy_path: str | os.PathLike | None = None, compare_judge: str | None = None,
              out: str | os.PathLike | None = None, compare_out: str | os.PathLike | None = None,
              sos_data: str | os.PathLike | None = None, sos_tasks: str | None = "all", progress: bool = True,
              on_run: Callable[[ProbeRun], None] | None = None, **probe_options: Any) -> AuditOutcome:
    """Probe ``judge`` (and ``compare_judge``), attach SOS-Bench ground truth, apply the policy,
    and write each run's results.json and report.html with its policy checks.

    ``sos_tasks=None`` skips the SOS-Bench section. ``on_run`` sees each run as it finishes.
    The policy is read before any judging, so a bad policy costs nothing.
    """
    from judgeaudit.stats.policy import evaluate, load_policy

    policy = load_policy(policy_path)
    targets = [(judge, out)] + ([(compare_judge, compare_out)] if compare_judge else [])
    runs, checks = [], []
    for spec, spec_out in targets:
        run = run_probe(spec, out=spec_out, progress=progress, **probe_options)
        if sos_tasks is not None:
            run.results["sos"] = sos_ground_truth(run, api_base=probe_options.get("api_base"), data_dir=sos_data,
                                                  tasks=sos_tasks, progress=progress)
        run_checks = evaluate(policy, run.results)
        run.results = rerender(run.dir, checks=run_checks, policy_name=policy.name, results=run.results)
        runs.append(run)
        checks.append(run_checks)
        if on_run is not None:
            on_run(run)
    return AuditOutcome(policy, runs, checks)


def sos_ground_truth(run: ProbeRun, *, api_base: str | None = None, data_dir: str | os.PathLike | None = None,
                     tasks: str = "all", progress: bool = True) -> dict[str, Any]:
    """The judge model's own SOS-Bench scores (factors, then benchmarks), for the audit report.

    Needs the judge's weights, so only local judges get scores; the others get a note saying
    why the section is empty. Scored on the packaged fixtures unless ``data_dir`` is given;
    stored (resumable) under the run directory's ``sos/``.
    """
    from judgeaudit.judges import judge_kind

    spec = run.results.get("run", {}).get("judge_spec", run.results.get("judge", ""))
    kind = judge_kind(spec, api_base)
    lm = run.judge.lm if run.judge is not None else None
    if kind not in ("local", "likelihood") or lm is None:
        return {"note": f"SOS-Bench ground truth needs the judge's weights; skipped for a {kind} judge."}
    try:
        from judgeaudit.sos.data import DataSource
        from judgeaudit.sos.document_scoring import SosOptions
        from judgeaudit.sos.pipeline import run_sos
    except ImportError:
        return {"note": "SOS-Bench scoring is not available in this installation; section skipped."}
    source = DataSource("dir", str(data_dir)) if data_dir is not None else DataSource("fixtures")
    sos = run_sos(lm, run.dir / "sos", tasks=tasks, options=SosOptions(source=source),
                  report=lambda _msg: None, progress=progress)
    doc = sos.result_documents
    scores: dict[str, Any] = {}
    for name, f in (doc.get("factors") or {}).items():
        scores[f"factor: {f.get('title', name)}"] = _score_row(f)
    for name, b in (doc.get("benchmarks") or {}).items():
        scores[name] = _score_row(b)
    note = (f"The judge model scored on SOS-Bench ({source.describe()}"
            + ("; fixtures are a handful of items per benchmark, a smoke check rather than a measurement"
               if data_dir is None else "") + ").")
    return {"note": note, "source": source.describe(), "dir": str(run.dir / "sos"), "scores": scores}


def _score_row(entry: dict[str, Any]) -> dict[str, Any]:
    ci = entry.get("ci") or [None, None]
    return {"score": entry.get("score"), "ci_low": ci[0], "ci_high": ci[1], "n": entry.get("n")}


def _is_local(judge: str, api_base: str | None) -> bool:
    from judgeaudit.judges import judge_kind

    return judge_kind(judge, api_base) == "local"


def load_run(directory: str | os.PathLike) -> dict[str, Any]:
    """results.json of a finished run, with a clear error when it is missing or unreadable."""
    from judgeaudit.jsonl_input import read_json

    path = Path(directory) / RunStore.RESULTS
    if not path.exists():
        raise JudgeauditError(f"{path}: no results.json; run `judgeaudit probe --out {directory}` first")
    results = read_json(path)
    if not isinstance(results, dict):
        raise InputError(path, f"expected a JSON object (a probe run's results), got {type(results).__name__}")
    validate_line(ProbeResults, results, path)
    return results


# What must agree for runs to be compared probe by probe: (label, how to read it from results.json).
_COMPARABLE = (("battery", lambda r: r.get("battery")), ("seed", lambda r: r.get("seed")),
               ("--limit", lambda r: (r.get("run") or {}).get("limit")),
               ("--repeats", lambda r: (r.get("run") or {}).get("repeats", 1)),
               ("template", lambda r: r.get("template")))


def comparison_warnings(runs: Sequence[dict[str, Any]], dirs: Sequence[str]) -> list[str]:
    """One line per setting that differs between the runs (their numbers are then not like for like)."""
    out = []
    for label, read in _COMPARABLE:
        values = [read(r) for r in runs]
        if len({json.dumps(v, sort_keys=True, default=str) for v in values}) > 1:
            shown = ", ".join(f"{d}: {'none' if v is None else v}" for d, v in zip(dirs, values))
            out.append(f"runs differ in {label} ({shown}); their numbers are not measured on the same pairs")
    return out


def _run_config(store: RunStore) -> dict[str, Any]:
    """config.json of a probe run, with the fields a recompute needs checked."""
    path = store.dir / RunStore.CONFIG
    if not path.exists():
        raise JudgeauditError(f"{path}: missing; cannot recompute without the run's settings")
    config = store.config()
    for field, kinds in (("judge", str), ("battery", str), ("seed", int)):
        if not isinstance(config.get(field), kinds) or isinstance(config.get(field), bool):
            raise InputError(path, "missing" if field not in config else
                             f"expected {kinds.__name__}, got {type(config[field]).__name__}", field=field)
    for field in ("limit", "repeats"):
        value = config.get(field)
        if value is not None and (not isinstance(value, int) or isinstance(value, bool) or value < 1):
            raise InputError(path, f"expected a whole number >= 1 or null, got {value!r}", field=field)
    return config


def select_run_records(records: Sequence[dict[str, Any]], config: dict[str, Any], *,
                       torn: bool = False) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """The records that belong to the run ``config`` describes, and an account of the rest.

    A run directory may hold records of an earlier ``--limit`` or ``--repeats`` (resumes keep
    them), and a damaged file may hold duplicates or too few lines. Kept: the first record of
    each (pair, order, repeat) of the pairs the config's battery, items, limit and seed give,
    for repeats below the config's. ``account`` counts what was left out and what is missing.
    """
    pair_set = build_probe_pairs(battery=config["battery"], items=config.get("items"), limit=config.get("limit"),
                                 seed=config["seed"])
    pair_ids = {p.pair_id for p in pair_set.pairs}
    repeats = int(config.get("repeats") or 1)
    kept: list[dict[str, Any]] = []
    keys: set[str] = set()
    slots: set[tuple[Any, Any, Any]] = set()
    left = {"duplicate_key": 0, "other_pairs": 0, "other_repeats": 0, "same_judgment_twice": 0}
    for r in records:
        slot = (r.get("pair_id"), r.get("order"), r.get("repeat", 0))
        if r["key"] in keys:
            left["duplicate_key"] += 1
        elif r.get("pair_id") not in pair_ids:
            left["other_pairs"] += 1
        elif not isinstance(slot[2], int) or slot[2] >= repeats:
            left["other_repeats"] += 1
        elif slot in slots:
            left["same_judgment_twice"] += 1
        else:
            kept.append(r)
            slots.add(slot)
        keys.add(r["key"])
    planned = 2 * repeats * len(pair_ids)
    missing = planned - len(kept)
    words = {"duplicate_key": "duplicate lines", "other_pairs": "of pairs outside this run's battery/limit/items",
             "other_repeats": "of repeats beyond --repeats", "same_judgment_twice": "judging a pair, order and "
                                                                                 "repeat already judged"}
    parts = [f"{n} {words[k]}" for k, n in left.items() if n]
    if torn:
        parts.append("a torn last line")
    note = (f"used {len(kept)} of {len(records)} records"
            + (f"; left out {', '.join(parts)}" if parts else "")
            + (f"; {missing} of the {planned} planned judgments are missing (unfinished or truncated file)"
               if missing > 0 else ""))
    return kept, {"records_read": len(records), "used": len(kept), "left_out": {k: n for k, n in left.items() if n},
                  "torn_last_line": torn, "planned": planned, "missing": max(missing, 0), "note": note}


def rerender(directory: str | os.PathLike, *, results: dict[str, Any] | None = None, recompute: bool = False,
             resamples: int | None = None, level: float | None = None, checks: Any = None,
             policy_name: str = "") -> dict[str, Any]:
    """Write report.html again: from ``results`` (also saved as results.json), from results.json,
    or (``recompute``) from records.jsonl with the run's settings."""
    from judgeaudit.reports.html import render_report
    from judgeaudit.stats.probe_results import compute_results

    store_dir = Path(directory)
    if not store_dir.is_dir():
        raise JudgeauditError(f"{directory}: no such run directory")
    if recompute:
        with locked(store_dir):
            store = RunStore(store_dir, readonly=True)
            config = _run_config(store)
            old = load_run(store_dir) if (store_dir / RunStore.RESULTS).exists() else {}
            method = old.get("method", {})
            records, torn = read_records(store.records_path)
            if not records:
                raise JudgeauditError(f"{store.records_path}: no judgments recorded")
            kept, account = select_run_records(records, config, torn=torn)
            if not kept:
                raise JudgeauditError(f"{store.records_path}: none of the {len(records)} records belong to this "
                                      f"run's settings ({account['note']})")
            results = compute_results(kept, judge=old.get("judge") or kept[0].get("judge") or config["judge"],
                                      battery=config["battery"], seed=config["seed"],
                                      template=config.get("template", "pairwise"),
                                      resamples=resamples or method.get("resamples", DEFAULT_RESAMPLES),
                                      level=level or method.get("level", DEFAULT_LEVEL),
                                      run={**(old.get("run") or {}), "recompute": account})
            for extra in ("sos", "judge_identity"):
                if extra in old:
                    results[extra] = old[extra]
            store.write_results(results)
    elif results is not None:
        store = RunStore(store_dir, readonly=True)
        store.write_results(results)
    else:
        results = load_run(store_dir)
        store = RunStore(store_dir, readonly=True)
    store.write_report(render_report(results, checks=checks, policy_name=policy_name))
    return results
