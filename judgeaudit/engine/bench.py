"""Throughput benchmark of the scoring engine against a full-logits baseline.

The workload is multiple-choice questions with long contexts (the shape of MMLU-style
tasks): each question is one context and several short continuations. The baseline
does what lm-evaluation-harness's HF backend does: one row per request, logits for
the whole sequence, log_softmax over the vocabulary, gather.

Each side runs in its own subprocess so that its peak resident memory (ru_maxrss) is
its own, and both are launched from one command so the ratio is measured in one run.
"""

from __future__ import annotations

import json
import random
import resource
import subprocess
import sys
import time
from dataclasses import dataclass
from typing import Any, Sequence

from judgeaudit.models.loading import LoadedModel

_SUBJECTS = ["river", "engine", "library", "forest", "satellite", "market", "bridge", "orchestra", "harbour", "glacier"]
_VERBS = ["measured", "described", "recorded", "compared", "surveyed", "explained", "observed", "estimated"]
_ADJ = ["northern", "ancient", "modern", "narrow", "busy", "quiet", "distant", "central", "coastal", "rural"]
_CHOICES = ["It grew larger over time.", "It stayed the same.", "It became smaller.", "Nobody knows for certain.",
            "It moved to another place.", "It was rebuilt twice."]


def make_workload(n_questions: int = 200, n_choices: int = 4, context_words: int = 230,
                  seed: int = 0) -> list[tuple[str, str]]:
    """Deterministic multiple-choice requests; ~230 words is about 300 tokens for SmolLM2."""
    rng = random.Random(seed)
    requests: list[tuple[str, str]] = []
    for q in range(n_questions):
        words: list[str] = []
        while len(words) < context_words:
            s = (f"In {1800 + rng.randrange(220)} the {rng.choice(_ADJ)} {rng.choice(_SUBJECTS)} was "
                 f"{rng.choice(_VERBS)} by {rng.randrange(2, 90)} people from the {rng.choice(_ADJ)} district.")
            words.extend(s.split())
        subject = rng.choice(_SUBJECTS)
        context = " ".join(words) + f"\nQuestion {q + 1}: What happened to the {subject}?\nAnswer:"
        for choice in rng.sample(_CHOICES, n_choices):
            requests.append((context, " " + choice))
    return requests


@dataclass
class BenchSide:
    name: str
    seconds: float
    peak_rss_mb: float
    logprobs: list[float]

    @property
    def requests_per_s(self) -> float:
        return len(self.logprobs) / self.seconds if self.seconds else float("nan")


def run_naive(lm: LoadedModel, requests: Sequence[tuple[str, str]], batch_size: int = 8) -> list[float]:
    """Full-sequence logits per request, right-padded batches, log_softmax over the vocab."""
    import torch

    from judgeaudit.engine.requests import encode_requests

    encoded = encode_requests(lm.tokenizer, requests, lm.max_length)
    order = sorted(range(len(encoded)), key=lambda i: -(len(encoded[i].prefix) + len(encoded[i].continuation)))
    out = [0.0] * len(encoded)
    pad = lm.tokenizer.pad_token_id or 0
    with torch.inference_mode():
        for start in range(0, len(order), batch_size):
            idx = order[start:start + batch_size]
            rows = [list(encoded[i].prefix) + list(encoded[i].continuation)[:-1] for i in idx]
            width = max(len(r) for r in rows)
            ids = torch.full((len(rows), width), pad, dtype=torch.long)
            att = torch.zeros((len(rows), width), dtype=torch.long)
            for r, row in enumerate(rows):
                ids[r, : len(row)] = torch.tensor(row)
                att[r, : len(row)] = 1
            logp = torch.log_softmax(lm.model(input_ids=ids.to(lm.device), attention_mask=att.to(lm.device)).logits.float(), -1)
            for r, i in enumerate(idx):
                cont = torch.tensor(encoded[i].continuation, device=lm.device)
                n, end = len(cont), len(rows[r])
                out[i] = logp[r, end - n:end].gather(1, cont[:, None]).sum().item()
    return out


def run_lm_eval(checkpoint_dir: str, requests: Sequence[tuple[str, str]], batch_size: int = 8) -> list[float]:
    """lm-evaluation-harness's own HF backend on the same requests."""
    from lm_eval.api.instance import Instance
    from lm_eval.models.huggingface import HFLM

    model = HFLM(pretrained=checkpoint_dir, dtype="float32", batch_size=batch_size, device="cpu")
    instances = [Instance(request_type="loglikelihood", doc={}, arguments=(c, x), idx=i)
                 for i, (c, x) in enumerate(requests)]
    return [lp for lp, _ in model.loglikelihood(instances, disable_tqdm=True)]


def _side_main(side: str, model: str, n_questions: int, n_choices: int, seed: int, batch_tokens: int | None) -> None:
    """Runs in a subprocess: load, score, print one JSON line with time and peak RSS."""
    from judgeaudit.models.loading import checkpoint_dir_for, load_model

    requests = make_workload(n_questions, n_choices, seed=seed)
    if side == "lm-eval":
        ckpt = checkpoint_dir_for(model)
        t0 = time.perf_counter()
        logprobs = run_lm_eval(ckpt, requests)
    else:
        lm = load_model(model, dtype="float32")
        t0 = time.perf_counter()
        if side == "naive":
            logprobs = run_naive(lm, requests)
        else:
            from judgeaudit.engine.loglikelihood import LoglikelihoodEngine

            engine = LoglikelihoodEngine(lm, max_batch_tokens=batch_tokens, progress=False)
            logprobs = [r.logprob for r in engine.loglikelihood(requests)]
    seconds = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    print(json.dumps({"side": side, "seconds": seconds, "peak_rss_mb": peak, "logprobs": logprobs}))


def run_side(side: str, model: str, n_questions: int, n_choices: int, seed: int = 0,
             batch_tokens: int | None = None) -> BenchSide:
    code = ("import sys, json; from judgeaudit.engine.bench import _side_main; "
            "_side_main(*json.loads(sys.argv[1]))")
    args = json.dumps([side, model, n_questions, n_choices, seed, batch_tokens])
    proc = subprocess.run([sys.executable, "-c", code, args], capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"benchmark side '{side}' failed:\n{proc.stderr[-2000:]}")
    line = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")][-1]
    data = json.loads(line)
    return BenchSide(side, data["seconds"], data["peak_rss_mb"], data["logprobs"])


def predictions(logprobs: Sequence[float], n_choices: int) -> list[int]:
    return [max(range(n_choices), key=lambda k: logprobs[q + k]) for q in range(0, len(logprobs), n_choices)]


def compare(a: BenchSide, b: BenchSide, n_choices: int) -> dict[str, Any]:
    pa, pb = predictions(a.logprobs, n_choices), predictions(b.logprobs, n_choices)
    return {
        "throughput_ratio": a.requests_per_s / b.requests_per_s,
        "memory_ratio": b.peak_rss_mb / a.peak_rss_mb,
        "same_predictions": sum(x == y for x, y in zip(pa, pb)),
        "questions": len(pa),
        "max_abs_logprob_diff": max(abs(x - y) for x, y in zip(a.logprobs, b.logprobs)),
    }
