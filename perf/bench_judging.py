"""Judging rate of the local logprob judge on the probe battery: judgments/s, tokens/s, share of peak.

    python perf/bench_judging.py [--judge smollm2] [--limit 10]

Judges every pair of the default battery (first ``--limit`` items) in both orders in
one process, as `judgeaudit probe` does, and prints judgments/s; the tokens the model
actually ran (shared beginnings once) and the tokens a one-prompt-at-a-time judge would
run, per second; and the share of this machine's measured matmul peak.
"""

from __future__ import annotations

import argparse
import time


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--judge", default="smollm2")
    ap.add_argument("--limit", type=int, default=10)
    args = ap.parse_args()
    from judgeaudit.audit import build_probe_pairs
    from judgeaudit.engine.rates import matmul_peak_flops, parameter_count, rate_line
    from judgeaudit.judges.local import LocalJudge
    from judgeaudit.judges.protocol import iter_in_chunks
    from judgeaudit.judges.pair_judging import plan_units

    judge = LocalJudge(args.judge, progress=False)
    units = plan_units(judge, build_probe_pairs(limit=args.limit).pairs)
    requests = [u.request for u in units]
    t0 = time.perf_counter()
    n = sum(1 for _ in iter_in_chunks(judge, requests, judge.batch_size))
    seconds = time.perf_counter() - t0
    tok = judge.lm.tokenizer
    full = sum(len(tok.encode(judge.chat_prompt(m))) for r in requests for m in judge.template.conversations(r))
    params = parameter_count(judge.lm.model)
    peak = matmul_peak_flops(judge.lm.device, judge.lm.dtype)
    print(f"{n} judgments in {seconds:.1f}s = {n / seconds:.2f} judgments/s (limit {args.limit})")
    print(rate_line("tokens run (shared beginnings once)", judge._engine.tokens_run, seconds, params, peak))
    print(rate_line("prompt tokens judged (as one prompt at a time)", full, seconds, params, peak, equivalent=True))


if __name__ == "__main__":
    main()
