"""Local judge: logprob mode against generative mode on the same probe pairs, in one run.

For each pair and both orders, the embedded model judges in
- logprob mode (one scoring pass, five verdict continuations),
- generative mode with the verdict opener prefilled (a few greedy tokens, then parsing),
- free generative mode (the model writes whatever it writes, then parsing) on a subset.
Chunks of requests alternate between modes so that load on the machine hits all modes
alike. Reported: the share of judgments where both modes prefer the same side (A, tie,
B, from the most likely verdict), exact verdict agreement, the parse rate, and the
per-judgment time ratio generative / logprob.

    python perf/compare_local_judge_modes.py --pairs 30 --free-pairs 10
"""

from __future__ import annotations

import argparse
import json
import os
import time

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")


def side(verdict: str | None) -> str | None:
    if verdict is None:
        return None
    return "tie" if verdict == "A=B" else verdict[0] if verdict[1] == ">" else verdict[-1]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default="smollm2")
    ap.add_argument("--pairs", type=int, default=30, help="pairs judged in logprob and prefilled generative mode")
    ap.add_argument("--free-pairs", type=int, default=10, help="pairs also judged in free generative mode (0: skip)")
    ap.add_argument("--free-max-new-tokens", type=int, default=256)
    ap.add_argument("--chunk", type=int, default=4, help="requests per timed chunk")
    ap.add_argument("--battery", default="default")
    ap.add_argument("--json", dest="json_out", default=None, help="also write the figures to this file")
    args = ap.parse_args()

    from judgeaudit.judges.local import LocalJudge
    from judgeaudit.judges.protocol import JudgeRequest, argmax_verdict
    from judgeaudit.models.loading import load_model
    from judgeaudit.probes.pairs import build_pairs

    import torch

    lm = load_model(args.model, dtype="float32")
    pairs = build_pairs(battery=args.battery, seed=0)
    # Spread over probes: round-robin by probe name.
    by_probe: dict[str, list] = {}
    for p in pairs:
        by_probe.setdefault(p.probe, []).append(p)
    chosen, lists = [], list(by_probe.values())
    while len(chosen) < args.pairs and any(lists):
        for lst in lists:
            if lst and len(chosen) < args.pairs:
                chosen.append(lst.pop(0))
    requests = []
    for p in chosen:
        requests.append(JudgeRequest(p.prompt, p.base, p.perturbed))
        requests.append(JudgeRequest(p.prompt, p.perturbed, p.base))
    n_free = 2 * min(args.free_pairs, len(chosen))

    judges = {
        "logprob": LocalJudge(lm, mode="logprob"),
        "generative_prefill": LocalJudge(lm, mode="generative", prefill=True, batch_size=args.chunk),
        "generative_free": LocalJudge(lm, mode="generative", max_new_tokens=args.free_max_new_tokens, batch_size=args.chunk),
    }
    # Warm up each mode once so one-off costs do not land on the first chunk.
    for name, judge in judges.items():
        if name != "generative_free" or n_free:
            judge.judge_batch(requests[:1])

    results: dict[str, list] = {k: [None] * len(requests) for k in judges}
    seconds = {k: 0.0 for k in judges}
    counted = {k: 0 for k in judges}
    for start in range(0, len(requests), args.chunk):
        idx = list(range(start, min(start + args.chunk, len(requests))))
        for name, judge in judges.items():
            sub = [i for i in idx if name != "generative_free" or i < n_free]
            if not sub:
                continue
            t0 = time.perf_counter()
            out = judge.judge_batch([requests[i] for i in sub])
            seconds[name] += time.perf_counter() - t0
            counted[name] += len(sub)
            for i, j in zip(sub, out):
                results[name][i] = j
        print(f"  {idx[-1] + 1}/{len(requests)} judgments", flush=True)

    def verdicts(name: str, upto: int) -> list[str | None]:
        return [argmax_verdict(j.probs) if j.parsed else None for j in results[name][:upto]]

    lp = verdicts("logprob", len(requests))
    figures = {"model": args.model, "pairs": len(chosen), "judgments": len(requests),
               "torch_threads": torch.get_num_threads(), "chunk": args.chunk}
    per = {k: seconds[k] / counted[k] for k in judges if counted[k]}
    figures["seconds_per_judgment"] = per
    for name, upto in (("generative_prefill", len(requests)), ("generative_free", n_free)):
        if not upto:
            continue
        gen = verdicts(name, upto)
        parsed = [i for i, v in enumerate(gen) if v is not None]
        figures[name] = {
            "judgments": upto,
            "parse_rate": len(parsed) / upto,
            "side_agreement_all": sum(side(gen[i]) == side(lp[i]) for i in range(upto)) / upto,
            "side_agreement_parsed": (sum(side(gen[i]) == side(lp[i]) for i in parsed) / len(parsed)) if parsed else None,
            "exact_verdict_agreement_parsed": (sum(gen[i] == lp[i] for i in parsed) / len(parsed)) if parsed else None,
            "time_ratio_vs_logprob": per[name] / per["logprob"],
            "logprob_seconds_same_requests": per["logprob"],
        }
    figures["logprob_side_counts"] = {s: sum(side(v) == s for v in lp) for s in ("A", "tie", "B")}
    print(json.dumps(figures, indent=2))
    if args.json_out:
        with open(args.json_out, "w") as fh:
            json.dump(figures, fh, indent=2)


if __name__ == "__main__":
    main()
