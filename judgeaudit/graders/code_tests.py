"""Grade a generated program against input/output tests, inside the sandbox.

Two kinds of test, as in LiveCodeBench: `stdin` tests feed the input on standard input
and compare standard output line by line (whitespace-trimmed lines, numbers compared as
decimals when the text differs); `functional` tests call a named method of a `Solution`
class (or a top-level function of that name) with one JSON value per input line and
compare the return value with the JSON output. Tests run in order in one child process,
each under its own timer, and stop at the first failure: a program passes only if every
test passes.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
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

# The trusted driver: it reads the tests and the solution from the scratch directory,
# runs each test under a per-test timer and writes one JSON verdict.
_DRIVER = r'''
import io, json, os, signal, sys
from decimal import Decimal, InvalidOperation

_result_path = os.environ.get("SANDBOX_RESULT")
_write = open
with open("_tests.json", encoding="utf-8") as fh:
    _spec = json.load(fh)
with open("_solution.py", encoding="utf-8") as fh:
    _source = fh.read()
_real_stdin, _real_stdout = sys.stdin, sys.stdout


class _TestTimeout(BaseException):
    pass


def _on_alarm(signum, frame):
    raise _TestTimeout()


signal.signal(signal.SIGALRM, _on_alarm)


def _lines(text):
    return [line.strip() for line in text.strip().split("\n")]


def _decimals(line):
    try:
        return [Decimal(tok) for tok in line.split()]
    except (InvalidOperation, ValueError):
        return None


def _same_stdout(got, want):
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


def _finish(verdict):
    sys.stdin, sys.stdout = _real_stdin, _real_stdout
    with _write(_result_path, "w", encoding="utf-8") as fh:
        json.dump(verdict, fh)
    sys.exit(0)


try:
    _code = compile(_spec["prelude"] + "\n" + _source, "solution.py", "exec")
except SyntaxError as exc:
    _finish({"status": "runtime_error", "detail": "SyntaxError: %s" % exc, "results": []})

_results = []
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
            _want = json.loads(_test["output"])
            sys.stdout = io.StringIO()
            signal.setitimer(signal.ITIMER_REAL, _timeout)
            _got = _target(*_args)
            signal.setitimer(signal.ITIMER_REAL, 0)
            if isinstance(_got, tuple):
                _got = list(_got)
            _ok = _got == _want
        else:
            sys.stdin = io.TextIOWrapper(io.BytesIO(_test["input"].encode("utf-8")), encoding="utf-8")
            sys.stdout = _buf = io.StringIO()
            signal.setitimer(signal.ITIMER_REAL, _timeout)
            try:
                exec(_code, {"__name__": "__main__"})
            except SystemExit:
                pass
            signal.setitimer(signal.ITIMER_REAL, 0)
            _ok = _same_stdout(_buf.getvalue(), _test["output"])
    except _TestTimeout:
        signal.setitimer(signal.ITIMER_REAL, 0)
        _results.append(False)
        _finish({"status": "timeout", "detail": "test %d exceeded %.1f s" % (_i, _timeout), "results": _results})
    except MemoryError:
        signal.setitimer(signal.ITIMER_REAL, 0)
        _results.append(False)
        _finish({"status": "memory", "detail": "test %d ran out of memory" % _i, "results": _results})
    except BaseException as exc:
        signal.setitimer(signal.ITIMER_REAL, 0)
        _results.append(False)
        _finish({"status": "runtime_error", "detail": "test %d: %s: %s" % (_i, type(exc).__name__, str(exc)[:300]),
                 "results": _results})
    _results.append(bool(_ok))
    if not _ok:
        _finish({"status": "wrong_answer", "detail": "test %d" % _i, "results": _results})
_finish({"status": "ok", "detail": "", "results": _results})
'''


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
    spec = {"tests": [{"input": t.input, "output": t.output, "testtype": t.testtype} for t in tests],
            "fn_name": fn_name, "timeout_s": per_test_timeout_s, "prelude": IMPORT_PRELUDE}
    total = min(max_total_s, per_test_timeout_s * len(tests) + 5.0)
    run = run_python(_DRIVER, limits=SandboxLimits(timeout_s=total, memory_mb=memory_mb),
                     files={"_tests.json": json.dumps(spec), "_solution.py": code})
    verdict = run.data if isinstance(run.data, dict) else None
    if verdict is None:
        # The child died before writing a verdict: killed on the wall clock, out of
        # memory at the C level, or it exited the interpreter itself.
        status = run.status if run.status != "ok" else "runtime_error"
        return CodeTestReport(False, len(tests), 0, status, run.stderr[-500:])
    results = [bool(r) for r in verdict.get("results", [])]
    passed = verdict.get("status") == "ok" and len(results) == len(tests) and all(results)
    return CodeTestReport(passed, len(tests), sum(results), str(verdict.get("status")),
                          str(verdict.get("detail", "")), results)
