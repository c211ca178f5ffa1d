"""Wall time of `judgeaudit logs` on a synthetic Arena-Hard log of 5,000 judgments.

Writes, in a temporary directory, 250 questions, a baseline and 10 models with answers of
varied length and markdown, and 2,500 judgment lines (two games each, labels drawn from a
length-loving rule with noise, a few unparsed), then times the `logs` command end to end
(reading, checking, fitting, 1,000 bootstrap resamples, writing the report) in a fresh
process, and prints the figures.

    python perf/bench_logs.py [--questions 250] [--models 10] [--resamples 1000]
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

WORDS = "the of a to and in is it that for on with as this be by are from at or an not".split()


def answer(rng: random.Random) -> str:
    n = rng.randint(20, 300)
    body = " ".join(rng.choice(WORDS) for _ in range(n))
    form = rng.random()
    if form < 0.3:
        return "## Answer\n\n" + "\n".join(f"- **{w}** {body[i * 40:(i + 1) * 40]}" for i, w in
                                            enumerate(rng.sample(WORDS, 4)))
    return body


def label(rng: random.Random, la: int, lb: int) -> str | None:
    if rng.random() < 0.01:
        return None
    x = 3 * (la - lb) / (la + lb) + rng.gauss(0, 1)
    return "A>>B" if x > 1.5 else "A>B" if x > 0.3 else "A=B" if x > -0.3 else "B>A" if x > -1.5 else "B>>A"


def build(root: Path, n_questions: int, n_models: int, seed: int = 0) -> None:
    rng = random.Random(seed)
    qids = [f"q{i:04d}" for i in range(n_questions)]
    (root / "question.jsonl").write_text("".join(json.dumps({"uid": q, "category": "perf", "prompt": f"Question {q}?"})
                                                 + "\n" for q in qids))
    models = ["baseline"] + [f"model-{i}" for i in range(n_models)]
    texts = {m: {q: answer(rng) for q in qids} for m in models}
    (root / "model_answer").mkdir()
    for m in models:
        (root / "model_answer" / f"{m}.jsonl").write_text("".join(
            json.dumps({"uid": q, "model": m, "messages": [{"role": "user", "content": "?"},
                                                           {"role": "assistant", "content": {"answer": t}}]}) + "\n"
            for q, t in texts[m].items()))
    jdir = root / "model_judgment" / "synthetic-judge"
    jdir.mkdir(parents=True)
    for m in models[1:]:
        rows = []
        for q in qids:
            lb, lm = len(texts["baseline"][q].split()), len(texts[m][q].split())
            rows.append({"uid": q, "model": m, "judge": "synthetic-judge", "baseline": "baseline",
                         "games": [{"score": label(rng, lb, lm)}, {"score": label(rng, lm, lb)}]})
        (jdir / f"{m}.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--questions", type=int, default=250)
    ap.add_argument("--models", type=int, default=10)
    ap.add_argument("--resamples", type=int, default=1000)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        build(root, args.questions, args.models)
        n = 2 * args.questions * args.models
        cmd = [sys.executable, "-c", "from judgeaudit.cli import main; main()", "logs", "--format", "arena-hard", "--judgments",
               str(root / "model_judgment" / "synthetic-judge"), "--answers", str(root / "model_answer"),
               "--questions", str(root / "question.jsonl"), "--out", str(root / "out"),
               "--resamples", str(args.resamples)]
        start = time.perf_counter()
        proc = subprocess.run(cmd, capture_output=True, text=True)
        wall = time.perf_counter() - start
        if proc.returncode != 0:
            sys.exit(proc.stdout + proc.stderr)
        results = json.loads((root / "out" / "results.json").read_text())
        j = results["method"]["judgments"]
        print(f"logs on {n} judgments ({args.questions} questions x {args.models} models x 2 orders; "
              f"{j['unparsed']} unparsed), {args.resamples} bootstrap resamples: {wall:.1f} s wall "
              f"(process start, reading, fits, bootstrap, report)")
        length = results["style"]["length"]
        print(f"length coefficient {length['coef']:.3f} [{length['ci_low']:.3f}, {length['ci_high']:.3f}]")


if __name__ == "__main__":
    main()
