"""Throughput on one device: the scoring engine against the naive full-logits baseline on the SOS
fixtures' multiple-choice requests, and the local logprob judge's judgments/s. Measured in one run.

    python perf/gpu_throughput.py --model DIR_OR_SPEC --out OUTDIR [--dtype bfloat16] [--device cuda]

Writes OUTDIR/engine_throughput.json and OUTDIR/judge_throughput.json and prints a summary.
Both sides score the same requests; the engine's answers are checked against the baseline's
(max |logprob diff|, same argmax per question). Needs only torch, transformers and the package
(no rich, click or network). ``--max-requests`` / ``--judgments`` cap the work (CPU smoke runs).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace


class RecordingScorer:
    """Collects the requests the SOS runner would score; answers with zeros."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, str]] = []

    def loglikelihood(self, requests, desc=""):
        self.requests += list(requests)
        return [SimpleNamespace(logprob=0.0, is_greedy=False) for _ in requests]


def sos_fixture_requests() -> tuple[list[tuple[str, str]], list[tuple[int, int]]]:
    """Every multiple-choice request of the SOS fixtures, and each question's span of requests."""
    from judgeaudit.runstore import RunStore
    from judgeaudit.sos.data import DataSource
    from judgeaudit.sos.document_scoring import SosOptions, SosRunner
    from judgeaudit.sos.spec import load_specs

    specs = [s for s in load_specs().values() if s.output_type == "multiple_choice"]
    scorer = RecordingScorer()
    spans: list[tuple[int, int]] = []
    with tempfile.TemporaryDirectory() as tmp:
        runner = SosRunner(SimpleNamespace(name="recorder", dtype=""), RunStore(tmp),
                           SosOptions(source=DataSource("fixtures"), chunk_docs=1), scorer=scorer,
                           report=lambda s: None, progress=False)
        before = 0
        original = scorer.loglikelihood

        def recording(requests, desc=""):
            nonlocal before
            out = original(requests, desc)
            spans.append((before, before + len(requests)))  # chunk_docs=1: one call per question
            before += len(requests)
            return out

        scorer.loglikelihood = recording
        runner.run(specs)
    return scorer.requests, spans


def predictions_by_span(logprobs, spans) -> list[int]:
    """The argmax choice of each question (first maximum, as the harness)."""
    return [max(range(a, b), key=lambda i: (logprobs[i], -i)) - a for a, b in spans]


def judge_requests(n: int) -> list:
    from judgeaudit.judges.protocol import JudgeRequest
    from judgeaudit.probes.items import load_items

    items = load_items()
    out = []
    for i in range(n):
        item = items[i % len(items)]
        padded = item["answer"] + " In short, that is the whole answer, stated as plainly as possible."
        a, b = (item["answer"], padded) if i % 2 == 0 else (padded, item["answer"])
        out.append(JudgeRequest(item["prompt"], a, b))
    return out


def _sync(device) -> None:
    import torch

    if device.type == "cuda":
        torch.cuda.synchronize(device)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", required=True, help="model spec or checkpoint directory")
    parser.add_argument("--out", required=True)
    parser.add_argument("--dtype", default="auto")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--max-requests", type=int, default=None, help="cap the SOS requests (smoke runs)")
    parser.add_argument("--judgments", type=int, default=512, help="judgments for the judge's rate")
    parser.add_argument("--naive-batch", type=int, default=16, help="baseline rows per batch")
    args = parser.parse_args()

    from judgeaudit.engine.bench import run_naive
    from judgeaudit.engine.loglikelihood import LoglikelihoodEngine
    from judgeaudit.judges.local import LocalJudge
    from judgeaudit.models.loading import load_model

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    lm = load_model(args.model, dtype=args.dtype, device=args.device)
    requests, spans = sos_fixture_requests()
    if args.max_requests:
        spans = [s for s in spans if s[1] <= args.max_requests]
        requests = requests[: spans[-1][1]]
    engine = LoglikelihoodEngine(lm, progress=False)
    engine.loglikelihood(requests[:64])  # warm-up: autotuning, kernels, allocator
    _sync(lm.device)
    t0 = time.perf_counter()
    fast = engine.loglikelihood(requests)
    _sync(lm.device)
    t_engine = time.perf_counter() - t0
    run_naive(lm, requests[:16], batch_size=args.naive_batch)
    _sync(lm.device)
    t0 = time.perf_counter()
    slow = run_naive(lm, requests, batch_size=args.naive_batch)
    _sync(lm.device)
    t_naive = time.perf_counter() - t0
    diffs = [abs(a.logprob - b) for a, b in zip(fast, slow)]
    pred_fast = predictions_by_span([r.logprob for r in fast], spans)
    pred_slow = predictions_by_span(slow, spans)
    engine_doc = {
        "model": args.model, "device": str(lm.device), "dtype": str(lm.dtype).replace("torch.", ""),
        "device_name": _device_name(lm.device), "requests": len(requests), "questions": len(spans),
        "engine_seconds": t_engine, "engine_requests_per_s": len(requests) / t_engine,
        "naive_seconds": t_naive, "naive_requests_per_s": len(requests) / t_naive,
        "speedup": t_naive / t_engine, "max_abs_logprob_diff": max(diffs),
        "same_predictions": sum(p == q for p, q in zip(pred_fast, pred_slow)),
        "oom_backoffs": engine.oom_backoffs,
        "baseline": f"full-sequence logits, log_softmax, gather; {args.naive_batch} rows per batch",
    }
    (out / "engine_throughput.json").write_text(json.dumps(engine_doc, indent=2) + "\n")
    print(f"engine on SOS fixtures: {len(requests)} requests ({len(spans)} questions), "
          f"{engine_doc['engine_requests_per_s']:.1f} req/s vs naive {engine_doc['naive_requests_per_s']:.1f} req/s "
          f"({engine_doc['speedup']:.2f}x); max |diff| {engine_doc['max_abs_logprob_diff']:.2e}; "
          f"same prediction on {engine_doc['same_predictions']}/{len(spans)} questions")

    judge = LocalJudge(lm, batch_size=64)
    reqs = judge_requests(args.judgments)
    judge.judge_batch(reqs[:8])  # warm-up
    _sync(lm.device)
    t0 = time.perf_counter()
    done = []
    for start in range(0, len(reqs), judge.batch_size):
        done += judge.judge_batch(reqs[start:start + judge.batch_size])
    _sync(lm.device)
    t_judge = time.perf_counter() - t0
    parsed = sum(j.parsed and math.isclose(sum(j.probs.values()), 1.0, abs_tol=1e-6) for j in done)
    judge_doc = {"model": args.model, "device": str(lm.device), "dtype": engine_doc["dtype"],
                 "mode": "logprob", "template": judge.template.name, "judgments": len(done),
                 "seconds": t_judge, "judgments_per_s": len(done) / t_judge, "valid_distributions": parsed}
    (out / "judge_throughput.json").write_text(json.dumps(judge_doc, indent=2) + "\n")
    print(f"local logprob judge: {len(done)} judgments in {t_judge:.1f}s = {judge_doc['judgments_per_s']:.1f}/s "
          f"({parsed} valid distributions)")
    if parsed != len(done) or engine_doc["same_predictions"] < len(spans) - max(1, len(spans) // 100):
        sys.exit("throughput check: answers disagree (see the JSON files)")


def _device_name(device) -> str:
    import torch

    return torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu"


if __name__ == "__main__":
    main()
