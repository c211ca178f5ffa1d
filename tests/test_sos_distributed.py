"""Data parallel SOS runs under torchrun (gloo on CPU): 2 ranks write exactly what 1 rank writes,
and a rank killed mid-run resumes with nothing lost or duplicated."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from judgeaudit.engine.distributed import Ranks, ShardStore, done_keys, merge_shards, shard_paths
from judgeaudit.runstore import RunStore

HERE = Path(__file__).parent
TASKS = "xstest,wmdp,bbq"


def test_shards_are_disjoint_and_cover_everything():
    units = list(range(11))
    parts = [Ranks(r, 3).shard(units) for r in range(3)]
    assert sorted(sum(parts, [])) == units and parts[0] == [0, 3, 6, 9]


def test_merge_follows_the_plan_order_and_can_be_repeated(tmp_path):
    store = RunStore(tmp_path)
    store.append({"key": "a", "v": 0})
    ShardStore(tmp_path, 1).extend([{"key": "d", "v": 3}, {"key": "b", "v": 1}])
    ShardStore(tmp_path, 0).extend([{"key": "c", "v": 2}, {"key": "z", "v": 9}])
    assert done_keys(store) == {"a", "b", "c", "d", "z"}
    assert merge_shards(store, ["a", "b", "c", "d"]) == 4
    assert [r["key"] for r in RunStore(tmp_path).records()] == ["a", "b", "c", "d", "z"]
    assert shard_paths(tmp_path) == [] and merge_shards(store, ["a"]) == 0


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def torchrun(nproc: int, *args: str, timeout: int = 240) -> subprocess.CompletedProcess:
    env = {**os.environ, "OMP_NUM_THREADS": "1", "GLOO_SOCKET_IFNAME": "lo",
           "PYTHONPATH": os.pathsep.join([str(HERE), os.environ.get("PYTHONPATH", "")])}
    cmd = [sys.executable, "-m", "torch.distributed.run", "--nnodes", "1", "--nproc-per-node", str(nproc),
           "--master-addr", "127.0.0.1", "--master-port", str(_free_port()), *args]
    return subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=timeout)


def _outputs(run_dir: Path) -> tuple[str, dict]:
    results = json.loads((run_dir / "results.json").read_text())
    return (run_dir / "records.jsonl").read_text(), results


def _scored(run_dir: Path, nproc: int) -> int:
    return sum(int((run_dir / f"scored.rank{r}").read_text()) for r in range(nproc))


def test_two_ranks_write_exactly_what_one_rank_writes_and_a_killed_rank_resumes(tmp_path):
    worker = str(HERE / "sos_rank_worker.py")
    one = torchrun(1, worker, str(tmp_path / "one"), TASKS)
    assert one.returncode == 0, one.stderr[-2000:]
    two = torchrun(2, worker, str(tmp_path / "two"), TASKS)
    assert two.returncode == 0, two.stderr[-2000:]
    records, results = _outputs(tmp_path / "one")
    n_docs = len(records.splitlines())
    assert n_docs > 10
    assert _outputs(tmp_path / "two") == (records, results)
    assert shard_paths(tmp_path / "two") == []
    both = [int((tmp_path / "two" / f"scored.rank{r}").read_text()) for r in range(2)]
    assert sum(both) == n_docs and min(both) > 0  # the work was shared, none done twice

    # Rank 1 is killed (SIGKILL) before its third chunk; torchrun stops the job.
    killed = torchrun(2, worker, str(tmp_path / "killed"), TASKS, "--kill-rank", "1", "--kill-after", "2")
    assert killed.returncode != 0
    left = sum(len(ShardStore(tmp_path / "killed", r).records()) for r in range(2))
    assert left >= 2  # rank 1's first two chunks at least survived in its shard
    assert not (tmp_path / "killed" / "results.json").exists()
    resumed = torchrun(2, worker, str(tmp_path / "killed"), TASKS)
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    assert _scored(tmp_path / "killed", 2) == n_docs - left  # nothing redone
    assert _outputs(tmp_path / "killed") == (records, results)  # nothing lost or duplicated


@pytest.mark.slow
def test_sos_cli_two_gloo_ranks_equal_one_on_the_embedded_model(tmp_path):
    base = ["-m", "judgeaudit", "sos", "--model", "smollm2", "--dtype", "float32", "--fixtures",
            "--tasks", "xstest,mmlu_pro", "--quiet", "--n-resamples", "100", "--out"]
    one = torchrun(1, *base, str(tmp_path / "one"), timeout=900)
    assert one.returncode == 0, one.stderr[-2000:]
    two = torchrun(2, *base, str(tmp_path / "two"), timeout=900)
    assert two.returncode == 0, two.stderr[-2000:]
    assert _outputs(tmp_path / "one") == _outputs(tmp_path / "two")


def _without_wall_time(results: dict) -> dict:
    results = json.loads(json.dumps(results))
    results.get("run", {}).pop("wall_s", None)
    return results


def test_probe_two_ranks_equal_one(tmp_path):
    base = ["-m", "judgeaudit", "probe", "--judge", "synthetic:longer", "--battery", "quick", "--limit", "6",
            "--resamples", "200", "--no-progress", "--out"]
    one = torchrun(1, *base, str(tmp_path / "one"))
    assert one.returncode == 0, one.stderr[-2000:]
    two = torchrun(2, *base, str(tmp_path / "two"))
    assert two.returncode == 0, two.stderr[-2000:]
    records, results = _outputs(tmp_path / "one")
    assert len(records.splitlines()) > 10
    got_records, got_results = _outputs(tmp_path / "two")
    assert got_records == records and shard_paths(tmp_path / "two") == []
    assert _without_wall_time(got_results) == _without_wall_time(results)
    missing_out = torchrun(2, *base[:-1])
    assert missing_out.returncode != 0 and "--out" in missing_out.stderr


def test_arena_two_ranks_equal_one(tmp_path):
    data = HERE / "data" / "arena" / "arena_hard"
    base = ["-m", "judgeaudit", "arena", "--judge", "synthetic:longer", "--answers", str(data / "model_answer"),
            "--questions", str(data / "question.jsonl"), "--baseline", "base-model", "--limit", "6",
            "--resamples", "100", "--no-progress", "--out"]
    one = torchrun(1, *base, str(tmp_path / "one"))
    assert one.returncode == 0, one.stderr[-2000:]
    two = torchrun(2, *base, str(tmp_path / "two"))
    assert two.returncode == 0, two.stderr[-2000:]
    records, results = _outputs(tmp_path / "one")
    assert len(records.splitlines()) >= 24  # 6 questions x 3 models x 2 orders
    got_records, got_results = _outputs(tmp_path / "two")
    assert got_records == records and shard_paths(tmp_path / "two") == []
    for r in (results, got_results):
        r["method"].pop("run", None)
    assert got_results == results
