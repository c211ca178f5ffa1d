"""`judgeaudit models`, `score`, `generate`, `bench`: the engine's commands."""

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


def remote_options(fn):
    """Options for a model served behind an OpenAI-compatible completions endpoint."""
    options = [
        click.option("--api-base", default=None,
                     help="With --model openai-completions:NAME: the server's URL (vLLM, SGLang, TGI, llama.cpp)."),
        click.option("--api-key-env", default=None, help="Environment variable holding the server's API key, if any."),
        click.option("--concurrency", type=click.IntRange(min=1), default=8, show_default=True,
                     help="Concurrent requests to the server."),
        click.option("--remote-batch", type=click.IntRange(min=1), default=16, show_default=True,
                     help="Prompts per completions request."),
    ]
    for option in reversed(options):
        fn = option(fn)
    return fn


def remote_kwargs(api_base: str | None, api_key_env: str | None, concurrency: int, remote_batch: int) -> dict:
    return {"api_base": api_base, "api_key_env": api_key_env, "concurrency": concurrency, "batch_size": remote_batch}


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
@click.option("--model", "model_spec", default="smollm2", show_default=True,
              help="HF id, directory, .gguf file, smollm2, or openai-completions:NAME with --api-base.")
@click.option("--requests", "requests_path", required=True, type=click.Path(dir_okay=False),
              help='JSONL, one {"context": str, "continuation": str, ...} per line.')
@click.option("--out", "out_path", required=True, type=click.Path(dir_okay=False), help="Output JSONL (written whole, at the end).")
@click.option("--dtype", type=DTYPES, default="auto", show_default=True)
@click.option("--device", default="auto", show_default=True)
@click.option("--batch-tokens", type=int, default=None, help="Token budget per batch (default: by device).")
@click.option("--impl", type=click.Choice(["auto", "torch", "triton"]), default="auto", show_default=True,
              help="LM-head log-prob op implementation.")
@remote_options
def score(model_spec: str, requests_path: str, out_path: str, dtype: str, device: str, batch_tokens: int | None,
          impl: str, api_base: str | None, api_key_env: str | None, concurrency: int, remote_batch: int) -> None:
    """Score each request's continuation by log-likelihood; output keeps input order and fields."""
    rows = read_score_requests(requests_path)
    from judgeaudit.engine.loglikelihood import LoglikelihoodEngine
    from judgeaudit.models.loading import load_lm

    lm = load_lm(model_spec, dtype=dtype, device=device, **remote_kwargs(api_base, api_key_env, concurrency, remote_batch))
    engine = lm if getattr(lm, "is_remote", False) else LoglikelihoodEngine(lm, max_batch_tokens=batch_tokens, impl=impl)
    t0 = time.perf_counter()
    results = engine.loglikelihood([(r["context"], r["continuation"]) for r in rows])
    elapsed = time.perf_counter() - t0
    lines = []
    for row, res in zip(rows, results):
        lines.append(json.dumps({**row, "logprob": res.logprob, "is_greedy": res.is_greedy, "n_tokens": res.n_tokens},
                                ensure_ascii=False))
    write_atomic(out_path, "\n".join(lines) + "\n")
    console.print(f"scored {len(rows)} requests in {elapsed:.1f}s ({len(rows) / max(elapsed, 1e-9):.1f}/s) -> {out_path}")


def _is_stop_list(value) -> bool:
    return isinstance(value, str) or (isinstance(value, list) and all(isinstance(s, str) for s in value))


def read_generate_requests(path: str, default_max_gen_toks: int) -> list[dict]:
    """Every line: string `context`; optional `until` (a string or list of strings) and
    positive integer `max_gen_toks`, as lm-evaluation-harness's generate_until arguments."""
    rows = []
    for lineno, obj in iter_jsonl_objects(path):
        require_field(path, lineno, obj, "context", str)
        if "until" in obj:
            require_field(path, lineno, obj, "until", (str, list), check=_is_stop_list, expect="a string or a list of strings")
        if "max_gen_toks" in obj:
            require_field(path, lineno, obj, "max_gen_toks", int, check=lambda v: v > 0, expect="a positive integer")
        rows.append(obj)
    if not rows:
        raise InputError(path, "no requests in file")
    return rows


@click.command()
@click.option("--model", "model_spec", default="smollm2", show_default=True, help="HF id, directory, .gguf file or smollm2.")
@click.option("--requests", "requests_path", required=True, type=click.Path(dir_okay=False),
              help='JSONL, one {"context": str, "until": [str, ...], "max_gen_toks": int, ...} per line.')
@click.option("--out", "out_path", required=True, type=click.Path(dir_okay=False), help="Output JSONL (written whole, at the end).")
@click.option("--max-gen-toks", type=click.IntRange(min=1), default=256, show_default=True,
              help="Token limit for requests that do not set max_gen_toks.")
@click.option("--chat", is_flag=True, help="Render each context as one user message through the chat template.")
@click.option("--dtype", type=DTYPES, default="auto", show_default=True)
@click.option("--device", default="auto", show_default=True)
@click.option("--batch-tokens", type=int, default=None, help="Prompt-token budget per batch (default: by device).")
@click.option("--backend", type=click.Choice(["auto", "hf", "vllm"]), default="hf", show_default=True,
              help="hf: the built-in engine; vllm: vLLM (GPU); auto: vLLM when installed and a GPU is present.")
def generate(model_spec: str, requests_path: str, out_path: str, max_gen_toks: int, chat: bool, dtype: str, device: str,
             batch_tokens: int | None, backend: str) -> None:
    """Greedy generation until a stop string (lm-evaluation-harness generate_until); output field `output`."""
    rows = read_generate_requests(requests_path, max_gen_toks)
    from judgeaudit.engine import generation_vllm
    from judgeaudit.engine.generation import GenerationEngine, GenerationRequest, render_prompt
    from judgeaudit.models.loading import load_model

    if backend == "vllm" and not generation_vllm.available():
        raise click.UsageError("--backend vllm needs vLLM installed and a CUDA device")
    lm = load_model(model_spec, dtype=dtype, device=device)
    requests = []
    for row in rows:
        until = row.get("until", [])
        requests.append(GenerationRequest(render_prompt(lm.tokenizer, row["context"], chat),
                                          tuple([until] if isinstance(until, str) else until),
                                          int(row.get("max_gen_toks", max_gen_toks))))
    t0 = time.perf_counter()
    if backend == "vllm" or (backend == "auto" and generation_vllm.available()):
        outputs = generation_vllm.generate_until(lm, requests)
        rate = ""
    else:
        engine = GenerationEngine(lm, max_batch_tokens=batch_tokens)
        outputs = engine.generate_until(requests)
        elapsed = time.perf_counter() - t0
        rate = (f", {engine.tokens_in} prompt + {engine.tokens_out} generated tokens, "
                f"{(engine.tokens_in + engine.tokens_out) / max(elapsed, 1e-9):.0f} tokens/s")
    elapsed = time.perf_counter() - t0
    lines = [json.dumps({**row, "output": text}, ensure_ascii=False) for row, text in zip(rows, outputs)]
    write_atomic(out_path, "\n".join(lines) + "\n")
    console.print(f"generated {len(rows)} outputs in {elapsed:.1f}s ({len(rows) / max(elapsed, 1e-9):.2f}/s{rate}) -> {out_path}")


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
