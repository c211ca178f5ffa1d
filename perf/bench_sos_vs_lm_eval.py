"""Throughput of `judgeaudit sos` against lm-evaluation-harness on the same fixture tasks.

Both score the same fixture items with the same task definitions and the same model in one
process: three safety tasks (harness task files in tests/data/lm_eval_tasks/), the
leaderboard BBH subtasks and MMLU-Pro (the harness's own leaderboard task files, pointed at
the fixture items). Model loading is outside both timings; each side's time includes
building its prompts and scoring. Prints documents/s for each and the ratio, and checks
that both give the same acc per task.

    python perf/bench_sos_vs_lm_eval.py [--model smollm2] [--bbh N] [--device cpu]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from dataclasses import replace
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

REPO = Path(__file__).resolve().parent.parent
FIXTURES = REPO / "benchmarks" / "fixtures"
SAFETY = {"xstest": "parity_xstest", "dttoxicity": "parity_dttoxicity", "bbq_age": "parity_bbq_age"}


def harness_task_files(folder: Path, bbh: list[str]) -> dict[str, str]:
    import lm_eval

    board = Path(lm_eval.__file__).parent / "tasks" / "leaderboard"
    pairs = dict(SAFETY)
    for sub in bbh:
        name = f"bench_bbh_{sub}"
        (folder / f"{name}.yaml").write_text(
            f"include: {board / 'bbh_mc' / (sub + '.yaml')}\ntask: {name}\ndataset_path: json\ndataset_name: null\n"
            f"dataset_kwargs:\n  data_files:\n    test: {FIXTURES / ('bbh_' + sub + '.jsonl')}\n"
            "metric_list:\n  - metric: acc\n  - metric: acc_norm\n")
        pairs[f"bbh_{sub}"] = name
    (folder / "bench_mmlu_pro.yaml").write_text(
        f"include: {board / 'mmlu_pro' / 'mmlu_pro.yaml'}\ntask: bench_mmlu_pro\ndataset_path: json\n"
        f"dataset_kwargs:\n  data_files:\n    test: {FIXTURES / 'mmlu_pro.jsonl'}\n"
        f"    validation: {FIXTURES / 'mmlu_pro.fewshot.jsonl'}\n")
    pairs["mmlu_pro"] = "bench_mmlu_pro"
    return pairs


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="smollm2")
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--dtype", default="float32")
    ap.add_argument("--bbh", type=int, default=24, help="how many BBH subtasks (of 24) to include")
    ap.add_argument("--batch-size", type=int, default=8, help="lm-evaluation-harness batch size")
    args = ap.parse_args()

    import numpy as np
    from lm_eval import simple_evaluate
    from lm_eval.models.huggingface import HFLM
    from lm_eval.tasks import TaskManager

    from judgeaudit.models.loading import load_model
    from judgeaudit.runstore import RunStore
    from judgeaudit.sos.data import DataSource
    from judgeaudit.sos.document_scoring import SosOptions, SosRunner
    from judgeaudit.sos.spec import load_specs

    lm = load_model(args.model, dtype=args.dtype, device=args.device)
    specs = load_specs()
    bbh = [s.name[len("bbh_"):] for s in specs["bbh"].subtasks][: args.bbh]
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        pairs = harness_task_files(tmp, bbh)
        wanted = [replace(s, subtasks=tuple(sub for sub in s.subtasks if sub.name in pairs))
                  for s in specs.values() if any(sub.name in pairs for sub in s.subtasks)]
        n_docs = 0

        # judgeaudit
        store = RunStore(tmp / "run")
        runner = SosRunner(lm, store, SosOptions(source=DataSource("fixtures")), progress=False, report=print)
        t0 = time.perf_counter()
        outcomes = runner.run(wanted)
        t_ours = time.perf_counter() - t0
        ours = {s.spec.name: float(np.mean([r["acc"] for r in s.records])) for o in outcomes for s in o.subtasks}
        n_docs = sum(s.n for o in outcomes for s in o.subtasks)
        n_requests = sum(len(r["loglikelihoods"]) for r in store.records())

        # lm-evaluation-harness, same items, same definitions
        model = HFLM(pretrained=lm.checkpoint_dir, dtype=args.dtype, batch_size=args.batch_size, device=args.device)
        cwd = os.getcwd()
        os.chdir(REPO)  # the safety task files name their data relative to the repository root
        try:
            t0 = time.perf_counter()
            out = simple_evaluate(model=model, tasks=list(pairs.values()), verbosity="WARNING",
                                  task_manager=TaskManager(include_path=[str(REPO / "tests" / "data" / "lm_eval_tasks"),
                                                                         str(tmp)]))
            t_harness = time.perf_counter() - t0
        finally:
            os.chdir(cwd)
        theirs = {ours_name: out["results"][task].get("acc,none") for ours_name, task in pairs.items()}

    differ = [k for k in pairs if theirs[k] is None or abs(ours[k] - theirs[k]) > 1e-9]
    print(f"model {args.model} ({args.dtype}, {args.device}); {len(pairs)} subtasks, {n_docs} documents, "
          f"{n_requests} (context, choice) requests")
    print(f"judgeaudit sos            : {t_ours:8.2f} s  {n_docs / t_ours:8.2f} docs/s  {n_requests / t_ours:8.2f} req/s")
    print(f"lm-evaluation-harness     : {t_harness:8.2f} s  {n_docs / t_harness:8.2f} docs/s  "
          f"{n_requests / t_harness:8.2f} req/s  (HFLM batch_size={args.batch_size})")
    print(f"speed-up (harness time / judgeaudit time): {t_harness / t_ours:.2f}x")
    print(f"acc agrees on {len(pairs) - len(differ)}/{len(pairs)} subtasks" + (f"; differs: {differ}" if differ else ""))


if __name__ == "__main__":
    main()
