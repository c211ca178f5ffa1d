"""lm-evaluation-harness generate_until vs the judgeaudit generation engine, same requests.

    python perf/bench_generate_vs_lm_eval.py [--questions 48] [--shots 5] [--max-gen-toks 48] [--model smollm2]

The workload is few-shot question answering in two tasks (so two shared few-shot
beginnings), greedy, stopping at a blank line or the next "Question:". Each side runs as
its own whole process (model load included), one after the other in this one command;
the harness uses its HF backend with batch size 8 in fp32 on CPU. Prints whether the
outputs are equal, the speed ratio (whole process and generation alone), tokens/s and
the share of this machine's measured matmul peak.
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import time

WORDS = ["river", "engine", "library", "forest", "market", "bridge", "harbour", "glacier", "orchard", "tower"]


def make_requests(n_questions: int, shots: int, max_gen_toks: int, seed: int = 0) -> list[dict]:
    rng = random.Random(seed)

    def arithmetic() -> tuple[str, str]:
        a, b = rng.randrange(2, 90), rng.randrange(2, 90)
        return f"Question: A {rng.choice(WORDS)} has {a} rooms and gains {b} more. How many rooms does it have?", \
            f"It has {a} + {b} = {a + b} rooms. The answer is {a + b}."

    def spelling() -> tuple[str, str]:
        w = rng.choice(WORDS)
        return f"Question: Spell the word '{w}' backwards.", f"Backwards, '{w}' is '{w[::-1]}'. The answer is {w[::-1]}."

    requests = []
    for task in (arithmetic, spelling):
        head = "The following are questions with worked answers.\n\n" + "".join(
            f"{q}\nAnswer: {a}\n\n" for q, a in (task() for _ in range(shots)))
        for _ in range(n_questions // 2):
            q, _ = task()
            requests.append({"context": head + q + "\nAnswer:", "until": ["\n\n", "Question:"],
                             "max_gen_toks": max_gen_toks})
    return requests


def _side(side: str, model: str, requests: list[dict]) -> None:
    """Runs in a subprocess: load, generate, print one JSON line."""
    from judgeaudit.models.loading import checkpoint_dir_for, load_model

    t0 = time.perf_counter()
    if side == "lm-eval":
        from lm_eval.api.instance import Instance
        from lm_eval.models.huggingface import HFLM

        hflm = HFLM(pretrained=checkpoint_dir_for(model), dtype="float32", batch_size=8, device="cpu")
        t1 = time.perf_counter()
        outputs = hflm.generate_until([Instance(request_type="generate_until", doc={}, idx=i, arguments=(
            r["context"], {"until": r["until"], "max_gen_toks": r["max_gen_toks"], "do_sample": False}))
            for i, r in enumerate(requests)], disable_tqdm=True)
        extra = {}
    else:
        from judgeaudit.engine.generation import GenerationEngine, GenerationRequest

        lm = load_model(model, dtype="float32")
        engine = GenerationEngine(lm, progress=False)
        t1 = time.perf_counter()
        outputs = engine.generate_until([GenerationRequest(r["context"], tuple(r["until"]), r["max_gen_toks"])
                                         for r in requests])
        extra = {"tokens_in": engine.tokens_in, "tokens_out": engine.tokens_out, "drafted": engine.drafted,
                 "accepted": engine.accepted}
    t2 = time.perf_counter()
    print(json.dumps({"load_s": t1 - t0, "generate_s": t2 - t1, "outputs": outputs, **extra}))


def run_side(side: str, model: str, requests: list[dict]) -> dict:
    code = "import sys, json; sys.path.insert(0, sys.argv[1]); import bench_generate_vs_lm_eval as b; " \
           "b._side(*json.loads(sys.argv[2]))"
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", code, sys.path[0], json.dumps([side, model, requests])],
                          capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        raise RuntimeError(f"benchmark side '{side}' failed:\n{proc.stderr[-3000:]}")
    data = json.loads([ln for ln in proc.stdout.splitlines() if ln.startswith("{")][-1])
    data["process_s"] = wall
    return data


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="smollm2")
    ap.add_argument("--questions", type=int, default=48)
    ap.add_argument("--shots", type=int, default=5)
    ap.add_argument("--max-gen-toks", type=int, default=48)
    args = ap.parse_args()
    from transformers import AutoTokenizer

    from judgeaudit.engine.rates import matmul_peak_flops, parameter_count, rate_line
    from judgeaudit.models.loading import checkpoint_dir_for

    requests = make_requests(args.questions, args.shots, args.max_gen_toks)
    sides = {}
    for side in ("judgeaudit", "lm-eval"):
        print(f"running {side} on {len(requests)} requests ...", flush=True)
        sides[side] = run_side(side, args.model, requests)
    ours, theirs = sides["judgeaudit"], sides["lm-eval"]
    same = [a == b for a, b in zip(ours["outputs"], theirs["outputs"])]
    for side, d in sides.items():
        print(f"{side:>10}: process {d['process_s']:.1f}s (load {d['load_s']:.1f}s, generate {d['generate_s']:.1f}s)")
    print(f"outputs equal: {sum(same)}/{len(same)}")
    for i, ok in enumerate(same):
        if not ok:
            print(f"  differs at {i}: {ours['outputs'][i]!r} vs {theirs['outputs'][i]!r}")
    print(f"judgeaudit drafts: {ours['drafted']} drafted tokens checked, {ours['accepted']} kept")
    print(f"speed ratio (whole process): {theirs['process_s'] / ours['process_s']:.2f}x; "
          f"generation alone: {theirs['generate_s'] / ours['generate_s']:.2f}x")
    # Useful work: every request's prompt plus what it generated, as any evaluator must process it.
    tok = AutoTokenizer.from_pretrained(checkpoint_dir_for(args.model))
    prompt_tokens = sum(len(tok.encode(r["context"])) for r in requests)
    out_tokens = ours["tokens_out"]
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM

    # The model's shapes without its weights (meta device): body parameters as the other benches count them.
    with torch.device("meta"):
        params = parameter_count(AutoModelForCausalLM.from_config(AutoConfig.from_pretrained(checkpoint_dir_for(args.model))))
    peak = matmul_peak_flops("cpu", torch.float32)
    for side, d in sides.items():
        print(rate_line(f"{side} useful work (every prompt in full + outputs)", prompt_tokens + out_tokens,
                        d["generate_s"], params, peak, equivalent=True))
    print(rate_line("judgeaudit tokens actually run (shared beginnings once)", ours["tokens_in"] + out_tokens,
                    ours["generate_s"], params, peak))


if __name__ == "__main__":
    main()
