"""lm-evaluation-harness itself vs the judgeaudit engine on the same multiple-choice requests.

    python perf/bench_engine_vs_lm_eval.py [--questions 200] [--choices 4] [--model smollm2]

Both run in their own subprocess (peak RSS is each one's own), one after the other, in
this one command; the harness uses `--model hf --batch_size 8` settings in fp32 on CPU.
"""

import argparse

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


if __name__ == "__main__":
    main()
