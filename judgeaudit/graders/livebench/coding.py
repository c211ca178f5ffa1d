"""LiveBench coding: LiveCodeBench generation and completion, graded by running tests."""

from __future__ import annotations

import base64
import io
import json
import pickle
import zlib
from typing import Any

from judgeaudit.graders import GraderInputError
from judgeaudit.graders.code_tests import CodeTest, CodeTestReport, run_code_tests


def extract_code(answer: str) -> str:
    """The text between the last two lines that hold a ``` fence ("" when there are fewer)."""
    lines = answer.split("\n")
    fences = [i for i, line in enumerate(lines) if "```" in line]
    if len(fences) < 2:
        return ""
    return "\n".join(lines[fences[-2] + 1:fences[-1]])


class _StringsOnly(pickle.Unpickler):
    # The hidden tests are stored as a pickled JSON string; refuse anything that would
    # construct objects (and so run code) while unpickling.
    def find_class(self, module, name):
        raise pickle.UnpicklingError(f"refusing to load {module}.{name} from test data")


def decode_tests(value: Any) -> list[CodeTest]:
    """Tests stored as JSON, or as base64(zlib(pickle(JSON string))) for the hidden ones."""
    if isinstance(value, list):
        raw = value
    else:
        try:
            raw = json.loads(value)
        except (TypeError, ValueError):
            blob = zlib.decompress(base64.b64decode(str(value).encode("utf-8")))
            raw = json.loads(_StringsOnly(io.BytesIO(blob)).load())
    return [CodeTest(input=str(t["input"]), output=str(t["output"]), testtype=t["testtype"]) for t in raw]


def function_name(doc: dict) -> str | None:
    original = doc.get("original_json") or {}
    if isinstance(original, str):
        original = json.loads(original)
    meta = original.get("metadata") or {}
    if isinstance(meta, str):
        meta = json.loads(meta) if meta.strip() else {}
    return meta.get("func_name") or doc.get("function_name")


def program_for(doc: dict, answer: str) -> str:
    code = extract_code(answer)
    partial = doc.get("partial_solution") or ""
    if partial and not code.startswith(partial):
        code = partial + "\n" + code  # completion items: the answer continues the given start
    return code


def coding_report(doc: dict, answer: str, *, per_test_timeout_s: float = 6.0) -> CodeTestReport:
    tests = decode_tests(doc.get("public_test_cases") or "[]")
    if doc.get("private_test_cases"):
        tests += decode_tests(doc["private_test_cases"])
    code = extract_code(answer)
    if not code.strip():
        return CodeTestReport(False, len(tests), 0, "no_code", "no fenced code block in the answer")
    return run_code_tests(program_for(doc, answer), tests, fn_name=function_name(doc),
                          per_test_timeout_s=per_test_timeout_s)


def coding_score(doc: dict, answer: str) -> float:
    task = str(doc.get("task", ""))
    if task not in ("LCB_generation", "coding_completion"):
        raise GraderInputError(f"no LiveBench coding grading rule for task {task!r}", field="task")
    return float(coding_report(doc, answer).passed)
