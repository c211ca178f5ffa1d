"""Grade a generated program against input/output tests, inside the sandbox.

Two kinds of test, as in LiveCodeBench: `stdin` tests feed the input on standard input
and compare standard output line by line (whitespace-trimmed lines, numbers compared as
decimals when the text differs); `functional` tests call a named method of a `Solution`
class (or a top-level function of that name) with one JSON value per input line and
compare the return value with the JSON output. Tests run in order in one sandboxed child
process, each under its own timer. The child gets the inputs only; this process compares
what it printed or returned with the expected outputs, and a program passes only if
every test passes (grading stops at the first failure).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Literal, Sequence

from judgeaudit.graders.sandbox import SandboxLimits, run_python

TestType = Literal["stdin", "functional"]


@dataclass(frozen=True)
class CodeTest:
    input: str
    output: str
    testtype: TestType


@dataclass
class CodeTestReport:
    passed: bool
    n_tests: int
    n_passed: int
    status: str                      # sandbox status, or "wrong_answer" / "runtime_error" / "no_code"
    detail: str = ""
    results: list[bool] = field(default_factory=list)
    isolation: str = "bubblewrap"    # "fallback" when the sandbox ran without bubblewrap


# Names competitive-programming answers routinely use without importing them
# (LiveCodeBench runs every answer with such a header).
IMPORT_PRELUDE = """\
import sys, os, re, math, json, string, random, bisect, heapq, itertools, functools, operator, collections, copy, statistics, datetime
from typing import *
from collections import *
from itertools import *
from functools import *
from heapq import *
from bisect import *
from math import *
from copy import deepcopy
sys.setrecursionlimit(50000)
"""

# The driver that runs inside the sandbox. It is given the tests' INPUTS only (never the
# expected outputs) and records what the solution produced for each one; the verdict is
# computed here, in the parent, from that record alone. Whatever the solution does to the
# driver (rebinding its names, writing records itself, exiting early) it cannot see an
# expected output, so it can at most spoil its own record, which then fails.
_DRIVER = r"""
import io, json, os, signal, sys

with open("_inputs.json", encoding="utf-8") as fh:
    _spec = json.load(fh)
with open("_solution.py", encoding="utf-8") as fh:
    _source = fh.read()
_record = open("_outputs.jsonl", "w", encoding="utf-8")
_real_stdin, _real_stdout = sys.stdin, sys.stdout


class _TestTimeout(BaseException):
    pass


def _on_alarm(signum, frame):
    raise _TestTimeout()


signal.signal(signal.SIGALRM, _on_alarm)


def _emit(i, kind, value=None):
    sys.stdin, sys.stdout = _real_stdin, _real_stdout
    _record.write(json.dumps({"i": i, "kind": kind, "value": value}) + "\n")
    _record.flush()


try:
    _code = compile(_spec["prelude"] + "\n" + _source, "solution.py", "exec")
except SyntaxError as exc:
    _emit(0, "error", "SyntaxError: %s" % exc)
    sys.exit(0)

_target = None
for _i, _test in enumerate(_spec["tests"]):
    _timeout = float(_spec["timeout_s"])
    try:
        if _test["testtype"] == "functional":
            if _target is None:
                _ns = {"__name__": "solution"}
                sys.stdout = io.StringIO()
                signal.setitimer(signal.ITIMER_REAL, _timeout)
                exec(_code, _ns)
                signal.setitimer(signal.ITIMER_REAL, 0)
                _name = _spec["fn_name"]
                if "Solution" in _ns and hasattr(_ns["Solution"], _name):
                    _target = getattr(_ns["Solution"](), _name)
                elif callable(_ns.get(_name)):
                    _target = _ns[_name]
                else:
                    raise NameError("no Solution.%s or function %s" % (_name, _name))
            _args = [json.loads(line) for line in _test["input"].split("\n") if line.strip()]
            sys.stdout = io.StringIO()
            signal.setitimer(signal.ITIMER_REAL, _timeout)
            _got = _target(*_args)
            signal.setitimer(signal.ITIMER_REAL, 0)
            try:
                _emit(_i, "return", json.dumps(_got))
            except (TypeError, ValueError):
                _emit(_i, "error", "the return value is not JSON: %s" % type(_got).__name__)
                break
        else:
            sys.stdin = io.TextIOWrapper(io.BytesIO(_test["input"].encode("utf-8")), encoding="utf-8")
            sys.stdout = _buf = io.StringIO()
            signal.setitimer(signal.ITIMER_REAL, _timeout)
            try:
                exec(_code, {"__name__": "__main__"})
            except SystemExit:
                pass
            signal.setitimer(signal.ITIMER_REAL, 0)
            _emit(_i, "stdout", _buf.getvalue())
    except _TestTimeout:
        signal.setitimer(signal.ITIMER_REAL, 0)
        _emit(_i, "timeout", "test %d exceeded %.1f s" % (_i, _timeout))
        break
    except MemoryError:
        signal.setitimer(signal.ITIMER_REAL, 0)
        _emit(_i, "memory", "test %d ran out of memory" % _i)
        break
    except BaseException as exc:
        signal.setitimer(signal.ITIMER_REAL, 0)
        _emit(_i, "error", "test %d: %s: %s" % (_i, type(exc).__name__, str(exc)[:300]))
        break
"""


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.strip().split("\n")]


def _decimals(line: str) -> list[Decimal] | None:
    try:
        return [Decimal(tok) for tok in line.split()]
    except (InvalidOperation, ValueError):
        return None


def same_stdout(got: str, want: str) -> bool:
    """Line by line after trimming; a line whose text differs may still match as decimals."""
    got_lines, want_lines = _lines(got), _lines(want)
    if len(got_lines) != len(want_lines):
        return False
    for g, w in zip(got_lines, want_lines):
        if g == w:
            continue
        gd, wd = _decimals(g), _decimals(w)
        if gd is None or wd is None or gd != wd:
            return False
    return True


def same_return(got_json: str, want_json: str) -> bool:
    """The solution's return value (JSON, tuples as lists) equals the expected JSON value."""
    try:
        got, want = json.loads(got_json), json.loads(want_json)
    except (TypeError, ValueError):
        return False
    return got == want


def _records(text: str, n_tests: int) -> dict[int, dict] | None:
    """The child's record, one entry per test index; None if it is malformed or a test was
    recorded twice (the solution wrote into the record)."""
    out: dict[int, dict] = {}
    for line in text.splitlines():
        try:
            rec = json.loads(line)
        except ValueError:
            return None
        if not isinstance(rec, dict) or not isinstance(rec.get("i"), int) or rec["i"] in out \
                or not 0 <= rec["i"] < max(n_tests, 1) or rec.get("kind") not in _KINDS:
            return None
        out[rec["i"]] = rec
    return out


_KINDS = ("stdout", "return", "timeout", "memory", "error")


def run_code_tests(code: str, tests: Sequence[CodeTest], *, fn_name: str | None = None,
                   per_test_timeout_s: float = 6.0, memory_mb: int = 1024,
                   max_total_s: float = 120.0) -> CodeTestReport:
    """Run `code` against `tests` in the sandbox; passed only if every test passes."""
    if not code.strip():
        return CodeTestReport(False, len(tests), 0, "no_code", "no code found in the answer")
    if not tests:
        return CodeTestReport(False, 0, 0, "no_tests", "the item has no tests")
    if any(t.testtype == "functional" for t in tests) and not fn_name:
        return CodeTestReport(False, len(tests), 0, "no_tests", "functional tests need a function name")
    spec = {"tests": [{"input": t.input, "testtype": t.testtype} for t in tests],
            "fn_name": fn_name, "timeout_s": per_test_timeout_s, "prelude": IMPORT_PRELUDE}
    total = min(max_total_s, per_test_timeout_s * len(tests) + 5.0)
    run = run_python(_DRIVER, limits=SandboxLimits(timeout_s=total, memory_mb=memory_mb),
                     files={"_inputs.json": json.dumps(spec), "_solution.py": code},
                     read_back=("_outputs.jsonl",))
    records = _records(run.files.get("_outputs.jsonl", ""), len(tests))
    if records is None:
        return CodeTestReport(False, len(tests), 0, "runtime_error", "the solution tampered with its test record",
                              isolation=run.isolation)
    results: list[bool] = []
    for i, test in enumerate(tests):
        rec = records.get(i)
        if rec is None:
            # No record: the child died (wall clock, memory at the C level, or it exited).
            status = run.status if run.status != "ok" else "runtime_error"
            detail = f"test {i}: no output recorded" + (f" ({run.stderr[-300:]})" if run.stderr else "")
            return CodeTestReport(False, len(tests), sum(results), status, detail, results, run.isolation)
        kind, value = rec["kind"], rec.get("value")
        if kind in ("timeout", "memory", "error"):
            results.append(False)
            status = {"error": "runtime_error"}.get(kind, kind)
            return CodeTestReport(False, len(tests), sum(results), status, str(value)[:500], results, run.isolation)
        want_kind = "return" if test.testtype == "functional" else "stdout"
        ok = isinstance(value, str) and kind == want_kind and (
            same_return(value, test.output) if kind == "return" else same_stdout(value, test.output))
        results.append(ok)
        if not ok:
            return CodeTestReport(False, len(tests), sum(results), "wrong_answer", f"test {i}", results,
                                  run.isolation)
    return CodeTestReport(True, len(tests), len(tests), "ok", "", results, run.isolation)
