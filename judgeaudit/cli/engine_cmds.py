"""`judgeaudit models`, `judgeaudit score`, `judgeaudit bench`: the scoring engine's commands."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import click
from rich.table import Table

from judgeaudit.console import console as make_console
from judgeaudit.errors import InputError
from judgeaudit.jsonl_input import iter_jsonl_objects, require_field
from judgeaudit.runstore import write_atomic

console = make_console(stderr=True)
DTYPES = click.Choice(["auto", "float32", "bfloat16", "float16"])


def _dir_size_mb(path: Path) -> float:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / 2**20


@click.command()
@click.argument("specs", nargs=-1)
@click.option("--load", is_flag=True, help="Also load each model and print its size and window.")
def models(specs: tuple[str, ...], load: bool) -> None:
    """Show what model SPECS resolve to (default: the embedded `smollm2`), and the weight cache."""
    from judgeaudit.cache_dirs import cache_root, models_cache_dir
    from judgeaudit.models.loading import load_model, resolve_spec

    out = make_console()
    table = Table(title="model specs")
    for col in ("spec", "kind", "location", "converted cache"):
        table.add_column(col)
    if load:
        table.add_column("loaded")
    for spec in specs or ("smollm2",):
        r = resolve_spec(spec)
        cache = "-" if r.converted_dir is None else f"{r.converted_dir} ({'ready' if r.is_converted else 'not yet built'})"
        row = [spec, r.kind, r.location, cache]
        if load:
            t0 = time.perf_counter()
            lm = load_model(spec)
            row.append(f"{lm.info['architecture']}, {lm.info['parameters'] / 1e6:.1f}M params, window "
                       f"{lm.max_length}, {lm.device}/{str(lm.dtype).replace('torch.', '')}, {time.perf_counter() - t0:.1f}s")
        table.add_row(*row)
    out.print(table)
    root = models_cache_dir()
    entries = sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")) if root.exists() else []
    out.print(f"cache: {cache_root()} (set JUDGEAUDIT_CACHE to move it)")
    for p in entries:
        out.print(f"  {p.name}  {_dir_size_mb(p):.0f} MiB")


def read_score_requests(path: str) -> list[dict]:
    """Every line must be an object with string `context` and `continuation`."""
    rows = []
    for lineno, obj in iter_jsonl_objects(path):
        require_field(path, lineno, obj, "context", str)
        require_field(path, lineno, obj, "continuation", str)
        rows.append(obj)
    if not rows:
        raise InputError(path, "no requests in file")
    return rows


@click.command()
@click.option("--model", "model_spec", default="smollm2", show_default=True, help="HF id, directory, .gguf file or smollm2.")
@click.option("--requests", "requests_path", required=True, type=click.Path(dir_okay=False),
              help='JSONL, one {"context": str, "continuation": str, ...} per line.')
@click.option("--out", "out_path", required=True, type=click.Path(dir_okay=False), help="Output JSONL (written whole, at the end).")
@click.option("--dtype", type=DTYPES, default="auto", show_default=True)
@click.option("--device", default="auto", show_default=True)
@click.option("--batch-tokens", type=int, default=None, help="Token budget per batch (default: by device).")
@click.option("--impl", type=click.Choice(["auto", "torch", "triton"]), default="auto", show_default=True,
              help="LM-head log-prob op implementation.")
def score(model_spec: str, requests_path: str, out_path: str, dtype: str, device: str, batch_tokens: int | None,
          impl: str) -> None:
    """Score each request's continuation by log-likelihood; output keeps input order and fields."""
    rows = read_score_requests(requests_path)
    from judgeaudit.engine.loglikelihood import LoglikelihoodEngine
    from judgeaudit.models.loading import load_model

    lm = load_model(model_spec, dtype=dtype, device=device)
    engine = LoglikelihoodEngine(lm, max_batch_tokens=batch_tokens, impl=impl)
    t0 = time.perf_counter()
    results = engine.loglikelihood([(r["context"], r["continuation"]) for r in rows])
    elapsed = time.perf_counter() - t0
    lines = []
    for row, res in zip(rows, results):
        lines.append(json.dumps({**row, "logprob": res.logprob, "is_greedy": res.is_greedy, "n_tokens": res.n_tokens},
                                ensure_ascii=False))
    write_atomic(out_path, "\n".join(lines) + "\n")
    console.print(f"scored {len(rows)} requests in {elapsed:.1f}s ({len(rows) / max(elapsed, 1e-9):.1f}/s) -> {out_path}")


@click.command()
@click.option("--model", "model_spec", default="smollm2", show_default=True)
@click.option("--questions", type=int, default=200, show_default=True)
@click.option("--choices", type=int, default=4, show_default=True)
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--baseline", type=click.Choice(["naive", "lm-eval", "both"]), default="naive", show_default=True,
              help="naive: full-logits scoring as lm-evaluation-harness does it; lm-eval: the harness itself.")
@click.option("--batch-tokens", type=int, default=None)
@click.option("--json-out", type=click.Path(dir_okay=False), default=None, help="Also write the figures as JSON.")
def bench(model_spec: str, questions: int, choices: int, seed: int, baseline: str, batch_tokens: int | None,
          json_out: str | None) -> None:
    """Requests/s and peak memory of the engine vs a full-logits baseline, measured in one run."""
    from judgeaudit.engine.bench import compare, run_side
    from judgeaudit.reports.bench import bench_table, comparison_line

    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    sides = ["judgeaudit"] + (["naive", "lm-eval"] if baseline == "both" else [baseline])
    results = {}
    for side in sides:
        console.print(f"running {side} on {questions} questions x {choices} choices ...")
        results[side] = run_side(side, model_spec, questions, choices, seed, batch_tokens)
    out = make_console()
    out.print(bench_table(f"{model_spec}: {questions * choices} requests ({questions} questions x {choices} "
                          f"choices, ~300-token contexts)", results))
    summary = {}
    for side in sides[1:]:
        c = compare(results["judgeaudit"], results[side], choices)
        summary[side] = c
        out.print(comparison_line(side, c))
    if json_out:
        payload = {side: {"seconds": r.seconds, "requests_per_s": r.requests_per_s, "peak_rss_mb": r.peak_rss_mb}
                   for side, r in results.items()}
        write_atomic(json_out, json.dumps({"sides": payload, "comparisons": summary}, indent=2) + "\n")
