"""Agreement of judgeaudit's graders with the reference scorers, on the boundary sets.

    python perf/grader_parity.py            # all three tables
    python perf/grader_parity.py ifeval     # or: math, livebench

IFEval and MATH are compared with lm-evaluation-harness's own graders (lm_eval's
tasks/ifeval and tasks/leaderboard/math), called in this process on the same inputs;
LiveBench with the official scorer's results recorded in tests/data/livebench_rules/.
Rows where the two sides differ are listed under each table. tests/test_graders_parity.py
asserts the thresholds on the same computations.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections import defaultdict
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")

DATA = Path(__file__).resolve().parents[1] / "tests" / "data"


def _jsonl(path: Path) -> list[dict]:
    with open(path, encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


# ---- IFEval -------------------------------------------------------------------------------

def ifeval_parity(path: Path = DATA / "parity" / "ifeval_boundary.jsonl") -> list[dict]:
    """One row per prompt: our and the reference's verdicts, strict and loose."""
    from judgeaudit.graders.ifeval import follows
    from judgeaudit.graders.punkt_data import nltk_data_dir

    nltk_data_dir()   # the reference reads the same punkt tables from nltk's data path
    import logging

    logging.getLogger("lm_eval").setLevel(logging.CRITICAL)   # its "unable to detect language" lines
    from lm_eval.tasks.ifeval import utils as reference

    rows = []
    for doc in _jsonl(path):
        ref = reference.process_results(doc, [doc["response"]])
        ours_strict = follows(doc["instruction_id_list"], doc["kwargs"], doc["response"])
        ours_loose = follows(doc["instruction_id_list"], doc["kwargs"], doc["response"], loose=True)
        rows.append({"key": doc["key"], "types": doc["instruction_id_list"], "response": doc["response"],
                     "ours_strict": ours_strict, "ref_strict": list(ref["inst_level_strict_acc"]),
                     "ours_loose": ours_loose, "ref_loose": list(ref["inst_level_loose_acc"])})
    return rows


def ifeval_table(rows: list[dict]) -> tuple[str, dict[str, float]]:
    by_type: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])   # instructions, strict agree, loose agree
    prompt_strict = prompt_loose = 0
    for r in rows:
        prompt_strict += all(r["ours_strict"]) == all(r["ref_strict"])
        prompt_loose += all(r["ours_loose"]) == all(r["ref_loose"])
        for i, t in enumerate(r["types"]):
            cell = by_type[t]
            cell[0] += 1
            cell[1] += r["ours_strict"][i] == r["ref_strict"][i]
            cell[2] += r["ours_loose"][i] == r["ref_loose"][i]
    lines = [f"{'instruction type':46} {'n':>4} {'strict':>8} {'loose':>8}"]
    for t in sorted(by_type):
        n, s, lo = by_type[t]
        lines.append(f"{t:46} {n:4d} {100 * s / n:7.1f}% {100 * lo / n:7.1f}%")
    n = len(rows)
    summary = {"prompts": n, "prompt_strict": prompt_strict / n, "prompt_loose": prompt_loose / n}
    lines.append(f"{'prompt level (all instructions of a prompt)':46} {n:4d} "
                 f"{100 * summary['prompt_strict']:7.1f}% {100 * summary['prompt_loose']:7.1f}%")
    for r in rows:
        if r["ours_strict"] != r["ref_strict"] or r["ours_loose"] != r["ref_loose"]:
            lines.append(f"  differs: key {r['key']} {r['types']} ours strict/loose {r['ours_strict']}/{r['ours_loose']}"
                         f" reference {r['ref_strict']}/{r['ref_loose']} response {r['response']!r}")
    return "\n".join(lines), summary


# ---- MATH -----------------------------------------------------------------------------------

def math_parity(path: Path = DATA / "parity" / "math_boundary.jsonl") -> list[dict]:
    from judgeaudit.graders.math_answers import MathHardGrader
    from lm_eval.tasks.leaderboard.math import utils as reference

    # The reference gives sympy one second under SIGALRM; a first comparison that has to
    # import numpy and scipy inside that second times out and leaves them half imported,
    # after which every later comparison fails. Warm sympy up outside any alarm first, as
    # judgeaudit's checker process does (lm-eval's own runs are exposed to this).
    import sympy
    from sympy.parsing.latex import parse_latex

    sympy.simplify(parse_latex("\\frac{1}{2}") - parse_latex("0.5"))
    grader = MathHardGrader()
    rows = []
    for case in _jsonl(path):
        doc = {"solution": case["solution"],
               "answer": reference.remove_boxed(reference.last_boxed_only_string(case["solution"]))}
        ref = reference.process_results(doc, [case["generation"]])
        ours = grader.score({"solution": case["solution"]}, case["generation"])
        rows.append({**case, "ours_em": int(ours["exact_match"]), "ref_em": int(ref["exact_match"]),
                     "ours_orig": int(ours["exact_match_original"]), "ref_orig": int(ref["exact_match_original"]),
                     "timeouts": int(ours["equivalence_timeouts"])})
    return rows


def math_table(rows: list[dict]) -> tuple[str, dict[str, float]]:
    by_kind: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    for r in rows:
        cell = by_kind[r["kind"]]
        cell[0] += 1
        cell[1] += r["ours_em"] == r["ref_em"]
        cell[2] += r["ours_orig"] == r["ref_orig"]
    lines = [f"{'kind':22} {'n':>4} {'exact_match':>12} {'exact_match_original':>21}"]
    for k in sorted(by_kind):
        n, em, orig = by_kind[k]
        lines.append(f"{k:22} {n:4d} {100 * em / n:11.1f}% {100 * orig / n:20.1f}%")
    n = len(rows)
    summary = {"cases": n, "exact_match": sum(r["ours_em"] == r["ref_em"] for r in rows) / n,
               "exact_match_original": sum(r["ours_orig"] == r["ref_orig"] for r in rows) / n,
               "timeouts": sum(r["timeouts"] for r in rows)}
    lines.append(f"{'all':22} {n:4d} {100 * summary['exact_match']:11.1f}% {100 * summary['exact_match_original']:20.1f}%"
                 f"   (equivalence timeouts: {summary['timeouts']})")
    for r in rows:
        if r["ours_em"] != r["ref_em"] or r["ours_orig"] != r["ref_orig"]:
            lines.append(f"  differs: {r['kind']} em {r['ours_em']}/{r['ref_em']} original {r['ours_orig']}/{r['ref_orig']}"
                         f" solution {r['solution']!r} generation {r['generation'][-90:]!r}")
    return "\n".join(lines), summary


def adversarial_timings() -> str:
    from judgeaudit.graders.math_answers import MathHardGrader

    grader = MathHardGrader()
    grader.score({"solution": "$\\boxed{5}$"}, "5")   # start the checker outside the timings
    lines = []
    for answer in ("$(10^{100})!$", "$9^{9^{9^{9}}}$"):
        generation = f"Final Answer: The final answer is {answer}. I hope it is correct."
        start = time.monotonic()
        result = grader.score({"solution": "so $\\boxed{5}$"}, generation)
        lines.append(f"grading {generation!r}: {time.monotonic() - start:.1f} s wall, exact_match "
                     f"{result['exact_match']:.0f}, exact_match_original {result['exact_match_original']:.0f}, "
                     f"timeouts {result['equivalence_timeouts']:.0f} (limit {grader.timeout_s:g} s per check)")
    return "\n".join(lines)


# ---- LiveBench --------------------------------------------------------------------------------

def livebench_parity(path: Path = DATA / "livebench_rules" / "probes.jsonl") -> list[dict]:
    from judgeaudit.graders.livebench.data_analysis import cta_score, tablejoin_score
    from judgeaudit.graders.livebench.math import amps_hard_score, integer_answer_score, multiple_choice_score
    from judgeaudit.graders.livebench.reasoning import spatial_score, web_of_lies_v2_score, web_of_lies_v3_score

    scorers = {
        "amc_last_line": lambda p: multiple_choice_score(p["ground_truth"], p["answer"], p["question"]),
        "amc_other_rules": lambda p: multiple_choice_score(p["ground_truth"], p["answer"], p["question"]),
        "aime": lambda p: integer_answer_score(p["ground_truth"], p["answer"]),
        "amps_hard": lambda p: amps_hard_score(p["ground_truth"], p["answer"]),
        "web_of_lies_v2": lambda p: web_of_lies_v2_score(p["ground_truth"], p["answer"]),
        "web_of_lies_v3": lambda p: web_of_lies_v3_score(p["ground_truth"], p["answer"]),
        "spatial": lambda p: spatial_score(p["ground_truth"], p["answer"]),
        "cta": lambda p: cta_score(p["ground_truth"], p["answer"]),
        "tablejoin": lambda p: tablejoin_score(p["ground_truth"], p["answer"]),
    }
    return [{**p, "ours": scorers[p["rule"]](p)} for p in _jsonl(path)]


def livebench_table(rows: list[dict]) -> tuple[str, dict[str, float]]:
    by_rule: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])   # probes, agree, LLM-decided
    for r in rows:
        cell = by_rule[r["rule"]]
        cell[0] += 1
        if r["official"] == "llm":
            cell[2] += 1
        else:
            cell[1] += abs(r["ours"] - r["official"]) < 1e-9
    lines = [f"{'rule':18} {'n':>4} {'agree':>8}   LLM-decided upstream (scored 0 here)"]
    for k in sorted(by_rule):
        n, agree, llm = by_rule[k]
        lines.append(f"{k:18} {n:4d} {100 * agree / (n - llm):7.1f}%   {llm}")
    decided = [r for r in rows if r["official"] != "llm"]
    summary = {"probes": len(rows), "agree": sum(abs(r["ours"] - r["official"]) < 1e-9 for r in decided) / len(decided)}
    lines.append(f"{'all':18} {len(rows):4d} {100 * summary['agree']:7.1f}%   {len(rows) - len(decided)}")
    for r in decided:
        if abs(r["ours"] - r["official"]) >= 1e-9:
            lines.append(f"  differs: {r['rule']} ours {r['ours']} official {r['official']} answer {r['answer']!r}")
    return "\n".join(lines), summary


def main(argv: list[str]) -> None:
    which = argv[1:] or ["ifeval", "math", "livebench"]
    if "ifeval" in which:
        print("IFEval: judgeaudit vs lm-evaluation-harness (per instruction type)")
        print(ifeval_table(ifeval_parity())[0], end="\n\n")
    if "math" in which:
        print("MATH Lvl 5: judgeaudit vs lm-evaluation-harness leaderboard_math_hard (per kind)")
        print(math_table(math_parity())[0])
        print(adversarial_timings(), end="\n\n")
    if "livebench" in which:
        print("LiveBench: judgeaudit vs the official scorers' recorded results (per rule)")
        print(livebench_table(livebench_parity())[0])


if __name__ == "__main__":
    main(sys.argv)
