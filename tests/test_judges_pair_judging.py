"""The judgment runner: both orders, un-swapped scores, records as they finish, exact resume."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from judgeaudit.judges import make_judge, run_judgments
from judgeaudit.judges.protocol import Judgment, point_mass
from judgeaudit.judges.pair_judging import estimate_judgments
from judgeaudit.probes.pairs import Pair
from judgeaudit.runstore import RunStore

REPO = Path(__file__).resolve().parents[1]


def make_pairs(n: int) -> list[Pair]:
    return [Pair(pair_id=f"it-{i:03d}/padding/s0", item_id=f"it-{i:03d}", probe="padding", kind="style",
                 category="knowledge", prompt=f"Prompt {i}?", base=f"Answer {i}.",
                 perturbed=f"Answer {i}. " + "Some padding that adds nothing. " * 4, item={"id": f"it-{i:03d}"})
            for i in range(n)]


def test_both_orders_and_unswapped_scores(tmp_path):
    pairs = make_pairs(3)
    records = run_judgments(make_judge("synthetic:longer"), pairs, RunStore(tmp_path), progress=False)
    assert [(r["pair_id"], r["order"]) for r in records] == [(p.pair_id, o) for p in pairs
                                                             for o in ("base_first", "perturbed_first")]
    for r in records:
        # The perturbed answer is much longer: it wins strongly whichever side it is shown on.
        assert r["score_perturbed"] == 1.0
        assert r["probs"] == point_mass("B>>A" if r["order"] == "base_first" else "A>>B")
        assert r["judge"] == "synthetic:longer" and r["kind"] == "style" and r["category"] == "knowledge"
        assert r["base"] == pairs[0].base or r["pair_id"] != pairs[0].pair_id
        assert set(r) >= {"key", "template", "item_id", "probe", "repeat", "perturbed", "parsed",
                          "criteria_perturbed", "raw", "usage"}
    # Position bias shows as a split between the two orders; the debiased mean is 0.5.
    pos = run_judgments(make_judge("synthetic:position?p=1"), pairs, RunStore(tmp_path / "pos"), progress=False)
    by_order = {r["order"]: r["score_perturbed"] for r in pos if r["pair_id"] == pairs[0].pair_id}
    assert by_order == {"base_first": 0.0, "perturbed_first": 1.0}


class CriteriaJudge:
    name = "criteria-test"

    def judge_batch(self, requests):
        return [Judgment(probs=point_mass("A>B"), raw="x" * 5000, parsed=True,
                         criteria={"correctness": point_mass("A>>B"), "style": None}) for _ in requests]


def test_criteria_are_unswapped_and_raw_is_capped(tmp_path):
    recs = run_judgments(CriteriaJudge(), make_pairs(1), RunStore(tmp_path), progress=False)
    bf, pf = recs
    assert bf["criteria_perturbed"] == {"correctness": 0.0, "style": None}
    assert pf["criteria_perturbed"] == {"correctness": 1.0, "style": None}
    assert bf["score_perturbed"] == 0.25 and pf["score_perturbed"] == 0.75
    assert len(bf["raw"]) == 4000


def test_repeats_and_unparsed(tmp_path):
    class Flaky:
        name = "flaky"

        def judge_batch(self, requests):
            return [Judgment.unparsed("??") if r.repeat == 1 else Judgment(point_mass("A=B"), "[[A=B]]", True)
                    for r in requests]

    recs = run_judgments(Flaky(), make_pairs(2), RunStore(tmp_path), repeats=2, progress=False)
    assert len(recs) == 8 and len({r["key"] for r in recs}) == 8
    unparsed = [r for r in recs if not r["parsed"]]
    assert len(unparsed) == 4 and all(r["repeat"] == 1 and r["probs"] is None and r["score_perturbed"] is None
                                      for r in unparsed)


def test_interrupted_by_error_resumes_without_redoing(tmp_path):
    calls = []

    class Failing:
        name = "failing"
        batch_size = 2

        def __init__(self, fail_after):
            self.fail_after = fail_after

        def judge_batch(self, requests):
            calls.extend(r.prompt + r.answer_a for r in requests)
            if len(calls) > self.fail_after:
                raise RuntimeError("judge went away")
            return [Judgment(point_mass("A>B"), "[[A>B]]", True) for _ in requests]

    pairs, store = make_pairs(5), RunStore(tmp_path)
    with pytest.raises(RuntimeError):
        run_judgments(Failing(fail_after=4), pairs, store, progress=False)
    assert len(store.records()) == 4
    calls.clear()
    recs = run_judgments(Failing(fail_after=100), pairs, RunStore(tmp_path), progress=False)
    assert len(calls) == 6 and len(recs) == 10
    assert len(RunStore(tmp_path).records()) == 10


def test_threaded_plain_judge_gives_same_records(tmp_path):
    import threading

    from judgeaudit.judges.plugin import PairJudgeAdapter

    threads = set()

    class Remote:
        def judge_pair(self, prompt, answer_a, answer_b):
            threads.add(threading.current_thread().name)
            time.sleep(0.005)
            return {"A>B": len(answer_a), "B>A": len(answer_b)}

    judge = PairJudgeAdapter(Remote(), name="remote")
    a = run_judgments(judge, make_pairs(8), RunStore(tmp_path / "a"), progress=False)
    assert len(threads) == 1
    threads.clear()
    b = run_judgments(judge, make_pairs(8), RunStore(tmp_path / "b"), concurrency=4, progress=False)
    assert len(threads) > 1 and a == b


def test_pairs_as_dicts_and_estimate(tmp_path):
    pairs = [p.to_dict() for p in make_pairs(4)]
    est = estimate_judgments(make_judge("synthetic:oracle"), pairs, repeats=2)
    assert est == {"judge": "synthetic:oracle", "pairs": 4, "judgments": 16, "judgments_pending": 16}
    store = RunStore(tmp_path)
    run_judgments(make_judge("synthetic:markdown"), pairs[:2], store, progress=False)
    assert estimate_judgments(make_judge("synthetic:markdown"), pairs, store)["judgments_pending"] == 4


DRIVER = textwrap.dedent('''
    import json, sys, time, hashlib
    from judgeaudit.judges import make_judge, run_judgments
    from judgeaudit.probes.pairs import Pair
    from judgeaudit.runstore import RunStore
    pairs = [Pair.from_dict(d) for d in json.load(open(sys.argv[2]))]
    judge = make_judge(sys.argv[3])
    run_judgments(judge, pairs, RunStore(sys.argv[1]), progress=False)
''')

SLOW_PLUGIN = textwrap.dedent('''
    import hashlib, time
    class Slow:
        """Deterministic verdict weights from the texts, after a short delay."""
        def judge_pair(self, prompt, answer_a, answer_b):
            time.sleep(0.03)
            h = hashlib.sha256((prompt + "|" + answer_a + "|" + answer_b).encode()).digest()
            return {"A>>B": h[0] + 1, "A>B": h[1] + 1, "A=B": h[2] + 1, "B>A": h[3] + 1, "B>>A": h[4] + 1}
''')


def _lines(path: Path) -> int:
    try:
        return path.read_bytes().count(b"\n")
    except FileNotFoundError:
        return 0


def test_sigkill_at_random_point_then_resume_matches_uninterrupted_run(tmp_path):
    pairs = make_pairs(25)
    pairs_file = tmp_path / "pairs.json"
    pairs_file.write_text(json.dumps([p.to_dict() for p in pairs]))
    (tmp_path / "slow_judge.py").write_text(SLOW_PLUGIN)
    (tmp_path / "driver.py").write_text(DRIVER)
    spec = f"{tmp_path / 'slow_judge.py'}:Slow"
    run_dir = tmp_path / "killed"
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    cmd = [sys.executable, str(tmp_path / "driver.py"), str(run_dir), str(pairs_file), spec]
    rng = random.Random()
    kills = []
    for _ in range(2):  # two kills at random points, then a run to completion
        target = _lines(run_dir / "records.jsonl") + rng.randint(1, 12)
        proc = subprocess.Popen(cmd, env=env)
        deadline = time.monotonic() + 60
        while _lines(run_dir / "records.jsonl") < target and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.002)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        kills.append(_lines(run_dir / "records.jsonl"))
    assert kills[-1] < 2 * len(pairs), "the run finished before it could be killed"
    done = subprocess.run(cmd, env=env, timeout=120)
    assert done.returncode == 0

    reference = run_judgments(make_judge(spec), pairs, RunStore(tmp_path / "reference"), progress=False)
    resumed = RunStore(run_dir).records()
    assert len(resumed) == len(reference) == 2 * len(pairs)
    assert len({r["key"] for r in resumed}) == len(resumed)
    key = lambda r: r["key"]  # noqa: E731
    assert sorted(resumed, key=key) == sorted(reference, key=key), kills
