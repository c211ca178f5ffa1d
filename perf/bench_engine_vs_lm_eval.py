"""lm-evaluation-harness itself vs the judgeaudit engine on the same multiple-choice requests.

    python perf/bench_engine_vs_lm_eval.py [--questions 200] [--choices 4] [--model smollm2]

Both run in their own subprocess (peak RSS is each one's own), one after the other, in
this one command; the harness uses `--model hf --batch_size 8` settings in fp32 on CPU.
"""

import argparse

import torch

from judgeaudit.console import console as make_console
from judgeaudit.engine.bench import compare, run_side
from judgeaudit.reports.bench import bench_table, comparison_line


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="smollm2")
    ap.add_argument("--questions", type=int, default=200)
    ap.add_argument("--choices", type=int, default=4)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    console = make_console()
    sides = {}
    for side in ("judgeaudit", "lm-eval"):
        console.print(f"running {side} ...")
        sides[side] = run_side(side, args.model, args.questions, args.choices, args.seed)
    console.print(bench_table(f"{args.questions * args.choices} requests ({args.questions} questions x "
                              f"{args.choices} choices)", sides))
    console.print(comparison_line("lm-evaluation-harness", compare(sides["judgeaudit"], sides["lm-eval"], args.choices)))
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
        console.print(rate_line(f"{name} useful work (every request in full)", tokens, side.seconds, params, peak,
                                equivalent=True))


if __name__ == "__main__":
    main()
