"""Parity with lm-evaluation-harness: same task definitions, same fixture items, same model
(the embedded SmolLM2, fp32, CPU) -> the same per-item predictions and the same acc.

Safety tasks: harness task files under tests/data/lm_eval_tasks/ written from SOS_BENCH.md.
Leaderboard task: the harness's own leaderboard BBH task files, pointed at the fixture items.
"""

import os
from pathlib import Path

import numpy as np
import pytest

from judgeaudit.runstore import RunStore
from judgeaudit.sos.data import DataSource
from judgeaudit.sos.document_scoring import SosOptions, SosRunner
from judgeaudit.sos.spec import load_specs

lm_eval = pytest.importorskip("lm_eval")

REPO = Path(__file__).resolve().parent.parent
TASKS = REPO / "tests" / "data" / "lm_eval_tasks"
BBH_SUBTASKS = ("boolean_expressions", "hyperbaton")
# judgeaudit subtask -> harness task
PAIRS = {"xstest": "parity_xstest", "dttoxicity": "parity_dttoxicity", "bbq_age": "parity_bbq_age",
         **{f"bbh_{s}": f"parity_bbh_{s}" for s in BBH_SUBTASKS}}


def _bbh_task_files(folder: Path) -> None:
    leaderboard = Path(lm_eval.__file__).parent / "tasks" / "leaderboard" / "bbh_mc"
    for sub in BBH_SUBTASKS:
        (folder / f"parity_bbh_{sub}.yaml").write_text(
            f"include: {leaderboard / (sub + '.yaml')}\n"
            f"task: parity_bbh_{sub}\n"
            "dataset_path: json\n"
            "dataset_name: null\n"
            f"dataset_kwargs:\n  data_files:\n    test: {REPO / 'benchmarks' / 'fixtures' / ('bbh_' + sub + '.jsonl')}\n"
            "metric_list:\n  - metric: acc\n  - metric: acc_norm\n")


@pytest.fixture(scope="module")
def harness(smollm2, tmp_path_factory):
    from lm_eval import simple_evaluate
    from lm_eval.models.huggingface import HFLM
    from lm_eval.tasks import TaskManager

    extra = tmp_path_factory.mktemp("lm_eval_bbh")
    _bbh_task_files(extra)
    cwd = os.getcwd()
    os.chdir(REPO)  # the safety task files name their data relative to the repository root
    try:
        model = HFLM(pretrained=smollm2.checkpoint_dir, dtype="float32", batch_size=8, device="cpu")
        out = simple_evaluate(model=model, tasks=list(PAIRS.values()), log_samples=True,
                              task_manager=TaskManager(include_path=[str(TASKS), str(extra)]))
    finally:
        os.chdir(cwd)
    return out


@pytest.fixture(scope="module")
def ours(smollm2, tmp_path_factory):
    specs = load_specs()
    wanted = [s for s in specs.values() if any(sub.name in PAIRS for sub in s.subtasks)]
    store = RunStore(tmp_path_factory.mktemp("sos_parity"))
    runner = SosRunner(smollm2, store, SosOptions(source=DataSource("fixtures")), progress=False,
                       report=lambda s: None)
    # Score only the paired subtasks.
    from dataclasses import replace

    trimmed = [replace(s, subtasks=tuple(sub for sub in s.subtasks if sub.name in PAIRS)) for s in wanted]
    runner.run(trimmed)
    records: dict[str, list[dict]] = {}
    for r in store.records():
        records.setdefault(r["subtask"], []).append(r)
    return {k: sorted(v, key=lambda r: r["index"]) for k, v in records.items()}


@pytest.mark.parametrize("subtask", list(PAIRS))
def test_same_predictions_and_acc_as_the_harness(subtask, harness, ours):
    task = PAIRS[subtask]
    samples = sorted(harness["samples"][task], key=lambda s: s["doc_id"])
    mine = ours[subtask]
    assert len(samples) == len(mine) >= 3
    for s, r in zip(samples, mine):
        lls = np.array([float(resp[0][0]) for resp in s["resps"]])
        np.testing.assert_allclose(r["loglikelihoods"], lls, atol=2e-3, rtol=0)
        assert r["pred"] == int(np.argmax(lls)), (subtask, s["doc_id"])
        assert r["acc"] == s["acc"] and r["acc_norm"] == s["acc_norm"], (subtask, s["doc_id"])
    acc = harness["results"][task]["acc,none"]
    assert np.mean([r["acc"] for r in mine]) == pytest.approx(acc)
