"""lm-evaluation-harness itself vs the judgeaudit engine on the same multiple-choice requests.

    python perf/bench_engine_vs_lm_eval.py [--questions 200] [--choices 4] [--model smollm2]

Both run in their own subprocess (peak RSS is each one's own), one after the other, in
this one command; the harness uses `--model hf --batch_size 8` settings in fp32 on CPU.
"""

import argparse

import torch

from rich.console import Console
from rich.table import Table

from judgeaudit.engine.bench import compare, run_side


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="smollm2")
    ap.add_argument("--questions", type=int, default=200)
    ap.add_argument("--choices", type=int, default=4)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    console = Console()
    sides = {}
    for side in ("judgeaudit", "lm-eval"):
        console.print(f"running {side} ...")
        sides[side] = run_side(side, args.model, args.questions, args.choices, args.seed)
    table = Table(title=f"{args.questions * args.choices} requests ({args.questions} questions x {args.choices} choices)")
    for col in ("scorer", "seconds", "requests/s", "peak RSS (MiB)"):
        table.add_column(col)
    for name, s in sides.items():
        table.add_row(name, f"{s.seconds:.1f}", f"{s.requests_per_s:.2f}", f"{s.peak_rss_mb:.0f}")
    console.print(table)
    c = compare(sides["judgeaudit"], sides["lm-eval"], args.choices)
    console.print(f"judgeaudit vs lm-evaluation-harness: {c['throughput_ratio']:.2f}x throughput, "
                  f"{c['memory_ratio']:.2f}x less peak memory, same predictions on "
                  f"{c['same_predictions']}/{c['questions']} questions, max |logprob diff| {c['max_abs_logprob_diff']:.2e}")
    # Useful work: every request's tokens (context + continuation), as any scorer must read them.
    from judgeaudit.engine.bench import make_workload
    from judgeaudit.engine.rates import matmul_peak_flops, parameter_count, rate_line
    from judgeaudit.engine.requests import encode_requests
    from judgeaudit.models.loading import load_model

    lm = load_model(args.model, dtype="float32")
    encoded = encode_requests(lm.tokenizer, make_workload(args.questions, args.choices, seed=args.seed), lm.max_length)
    tokens = sum(len(e.prefix) + len(e.continuation) for e in encoded)
    params, peak = parameter_count(lm.model), matmul_peak_flops(lm.device, torch.float32)
    for name, side in sides.items():
        console.print(rate_line(f"{name} useful work", tokens, side.seconds, params, peak))


if __name__ == "__main__":
    main()
