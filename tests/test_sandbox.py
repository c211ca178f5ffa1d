"""The sandbox stops runaway, memory-hungry and networked code; correct code passes."""

import json
import os

import pytest

from judgeaudit.graders.code_tests import CodeTest, run_code_tests
from judgeaudit.graders import sandbox
from judgeaudit.graders.sandbox import SandboxLimits, isolation, run_python

SUM_STDIN = [CodeTest("1 2\n", "3\n", "stdin"), CodeTest("10 -4\n", "6\n", "stdin")]


def test_correct_program_passes():
    report = run_code_tests("a, b = map(int, input().split())\nprint(a + b)\n", SUM_STDIN)
    assert report.passed and report.n_passed == 2 and report.status == "ok"


def test_wrong_program_fails():
    report = run_code_tests("a, b = map(int, input().split())\nprint(a - b)\n", SUM_STDIN)
    assert not report.passed and report.status == "wrong_answer" and report.n_passed == 0


def test_infinite_loop_is_stopped():
    report = run_code_tests("while True:\n    pass\n", SUM_STDIN, per_test_timeout_s=1.0)
    assert not report.passed and report.status == "timeout"


def test_infinite_loop_in_c_code_is_killed_by_wall_clock():
    # A single huge integer operation does not return to the interpreter loop, so the
    # per-test timer cannot interrupt it; the wall-clock limit on the process must.
    res = run_python("x = 10 ** (10 ** 9)\n", limits=SandboxLimits(timeout_s=1.5))
    assert res.status == "timeout" and res.duration_s < 10


def test_unbounded_allocation_is_stopped():
    code = "chunks = []\nwhile True:\n    chunks.append(bytearray(50 * 1024 * 1024))\n"
    report = run_code_tests(code, SUM_STDIN, memory_mb=512, per_test_timeout_s=30.0)  # generous: loaded machines
    assert not report.passed and report.status == "memory"
    res = run_python(code, limits=SandboxLimits(timeout_s=10, memory_mb=512))
    assert res.status == "memory"


def test_socket_is_refused_and_scored_as_failing():
    code = ("import socket\n"
            "s = socket.create_connection(('127.0.0.1', 80), timeout=1)\n"
            "a, b = map(int, input().split())\nprint(a + b)\n")
    report = run_code_tests(code, SUM_STDIN)
    assert not report.passed and report.status == "runtime_error"
    res = run_python("import socket\nsocket.socket(socket.AF_INET, socket.SOCK_STREAM)\n")
    assert res.status == "error" and "network access is disabled" in res.stderr


def test_raw_socket_module_is_refused():
    res = run_python("import _socket\n_socket.socket()\n")
    assert res.status == "error"


def test_namespace_blocks_network_even_without_guard_when_available():
    if not sandbox._unshare_prefix():
        pytest.skip("no network namespace here; the Python guard alone is what the other tests check")
    code = ("import socket\n"
            "try:\n    socket.create_connection(('1.1.1.1', 53), timeout=2)\n    print('connected')\n"
            "except OSError as e:\n    print('blocked', type(e).__name__)\n")
    # network=True drops both guards (trusted use); here we drop only the Python guard
    # by running the namespace prefix directly.
    import subprocess, sys
    out = subprocess.run([*sandbox._unshare_prefix(), sys.executable, "-c", code], capture_output=True,
                         text=True, timeout=20)
    assert "blocked" in out.stdout


def test_runs_in_scratch_directory_not_ours():
    res = run_python("import os, json\nprint(os.getcwd())\n")
    assert res.ok
    cwd = res.stdout.strip()
    if res.isolation == "bubblewrap":
        assert cwd == "/sandbox"        # the scratch directory, mounted where the child sees it
    else:
        assert "judgeaudit-sandbox-" in cwd and cwd != os.getcwd()
        assert not os.path.exists(cwd)  # removed afterwards


def test_endless_output_is_capped():
    res = run_python("while True:\n    print('x' * 1000)\n", limits=SandboxLimits(timeout_s=20, output_mb=2))
    assert res.status in ("output_limit", "timeout")
    assert len(res.stdout) <= (1 << 20)


def test_functional_tests_call_solution_method():
    code = ("class Solution:\n"
            "    def twoSum(self, nums: List[int], target: int) -> List[int]:\n"
            "        seen = {}\n"
            "        for i, x in enumerate(nums):\n"
            "            if target - x in seen:\n"
            "                return [seen[target - x], i]\n"
            "            seen[x] = i\n")
    tests = [CodeTest("[2, 7, 11, 15]\n9", "[0, 1]", "functional"),
             CodeTest("[3, 2, 4]\n6", "[1, 2]", "functional")]
    assert run_code_tests(code, tests, fn_name="twoSum").passed
    wrong = code.replace("[seen[target - x], i]", "[i, seen[target - x]]")
    assert not run_code_tests(wrong, tests, fn_name="twoSum").passed


def test_stdout_numbers_compare_as_decimals():
    tests = [CodeTest("", "0.50\n", "stdin")]
    assert run_code_tests("print(0.5)\n", tests).passed
    assert not run_code_tests("print(0.51)\n", tests).passed


def test_syntax_error_fails_cleanly():
    report = run_code_tests("def f(:\n", SUM_STDIN)
    assert not report.passed and report.status == "runtime_error" and "SyntaxError" in report.detail


# ---- hardening: what a hostile answer tries -------------------------------------------------

needs_bwrap = pytest.mark.skipif(isolation() != "bubblewrap",
                                 reason="bubblewrap is not installed or does not work here (see .ci/run)")


def test_bubblewrap_is_used_where_installed_and_fallback_is_reported():
    import shutil

    res = run_python("print('hi')\n")
    assert res.ok and res.isolation == isolation()
    if shutil.which("bwrap") and os.geteuid() == 0:   # as root bubblewrap needs no user namespaces
        assert res.isolation == "bubblewrap"


@needs_bwrap
def test_child_cannot_read_the_parents_environment(monkeypatch):
    secret = "sk-test-parent-secret-5d1e"
    monkeypatch.setenv("OPENAI_API_KEY", secret)
    code = ("import os, sys\n"
            "found = []\n"
            "for pid in os.listdir('/proc'):\n"
            "    try:\n"
            "        if sys.argv[1].encode() in open(f'/proc/{pid}/environ', 'rb').read():\n"
            "            found.append(pid)\n"
            "    except OSError:\n"
            "        pass\n"
            "print('visible' if os.path.exists(f'/proc/{sys.argv[2]}') else 'hidden', found, os.environ.get('OPENAI_API_KEY'))\n")
    res = run_python(code, args=[secret, str(os.getpid())])
    assert res.ok, res.stderr
    assert res.stdout.split()[0] == "hidden"
    assert secret not in res.stdout


@needs_bwrap
def test_child_cannot_enter_the_parents_network_namespace():
    code = ("import os, sys\n"
            "try:\n"
            "    fd = os.open(f'/proc/{sys.argv[1]}/ns/net', os.O_RDONLY)\n"
            "    print('opened')\n"
            "except OSError as exc:\n"
            "    print('refused', exc.errno)\n"
            "print(len(os.listdir('/sys/class/net')) if os.path.isdir('/sys/class/net') else 0)\n")
    res = run_python(code, args=[str(os.getpid())])
    assert res.ok, res.stderr
    assert res.stdout.split()[0] == "refused"


@needs_bwrap
def test_process_count_is_capped():
    code = ("import os, time\n"
            "n = 0\n"
            "try:\n"
            "    for _ in range(300):\n"
            "        if os.fork() == 0:\n"
            "            time.sleep(3)\n"
            "            os._exit(0)\n"
            "        n += 1\n"
            "except OSError:\n"
            "    pass\n"
            "print(n)\n")
    res = run_python(code, limits=SandboxLimits(timeout_s=20, max_processes=16))
    assert res.ok, res.stderr
    assert int(res.stdout.split()[0]) < 16


def _pids_with_cmdline(marker: bytes) -> list[int]:
    pids = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/cmdline", "rb") as fh:
                    if fh.read() == marker:
                        pids.append(int(entry))
            except OSError:
                continue
    return pids


@needs_bwrap
def test_setsid_and_double_forked_children_die_at_the_timeout():
    import signal
    import time

    marker_arg = "317.2718"          # an unusual sleep length names the escaped process
    code = ("import os, subprocess, time\n"
            "if os.fork() == 0:\n"
            "    os.setsid()\n"
            "    if os.fork() == 0:\n"
            f"        os.execv('/bin/sleep', ['sleep', '{marker_arg}'])\n"
            "    os._exit(0)\n"
            "while True:\n"
            "    time.sleep(0.1)\n")
    res = run_python(code, limits=SandboxLimits(timeout_s=2))
    assert res.status == "timeout"
    time.sleep(1.0)
    survivors = _pids_with_cmdline(b"sleep\x00" + marker_arg.encode() + b"\x00")
    for pid in survivors:        # never leave them behind, even when the test fails
        os.kill(pid, signal.SIGKILL)
    assert not survivors


@needs_bwrap
def test_writes_outside_the_scratch_directory_fail(tmp_path):
    target = tmp_path / "escaped.txt"
    code = ("import sys\n"
            "for path in [sys.argv[1], '/tmp/escaped.txt', '/escaped.txt', '/usr/escaped.txt']:\n"
            "    try:\n"
            "        open(path, 'w').write('x')\n"
            "        print('wrote', path)\n"
            "    except OSError:\n"
            "        print('refused', path)\n"
            "open('inside.txt', 'w').write('ok')\n")
    res = run_python(code, args=[str(target)], read_back=("inside.txt",))
    assert res.ok, res.stderr
    assert "wrote" not in res.stdout and not target.exists()
    assert res.files == {"inside.txt": "ok"}


# ---- the code grader trusts nothing the child says about itself ------------------------------

SECRET_TESTS = [CodeTest("1 2\n", "4242\n", "stdin"), CodeTest("5 6\n", "9191\n", "stdin")]


def test_expected_outputs_are_not_readable_by_the_solution():
    # Reads every JSON file it can find and prints the output stored beside its input.
    code = ("import json, os, sys\n"
            "data = sys.stdin.read()\n"
            "for root in ['.', '/sandbox', '/tmp']:\n"
            "    try:\n"
            "        names = os.listdir(root)\n"
            "    except OSError:\n"  # an unlistable directory hides nothing from this check
            "        continue\n"
            "    for name in names:\n"
            "        try:\n"
            "            spec = json.load(open(os.path.join(root, name)))\n"
            "        except Exception:\n"
            "            continue\n"
            "        for t in spec.get('tests', []):\n"
            "            if t.get('input') == data and 'output' in t:\n"
            "                print(t['output'])\n")
    report = run_code_tests(code, SECRET_TESTS)
    assert not report.passed and report.status == "wrong_answer"


def test_a_verdict_written_by_the_child_is_ignored():
    code = ("import json, os, sys\n"
            "path = os.environ.get('SANDBOX_RESULT') or '_sandbox_result.json'\n"
            "json.dump({'status': 'ok', 'detail': '', 'results': [True, True]}, open(path, 'w'))\n"
            "open('_outputs.jsonl', 'a').write(json.dumps({'i': 1, 'kind': 'stdout', 'value': 'x'}) + '\\n')\n"
            "os._exit(0)\n")
    report = run_code_tests(code, SECRET_TESTS)
    assert not report.passed


def test_rebinding_the_drivers_comparison_does_not_pass():
    code = ("import sys\n"
            "g = sys._getframe(1).f_globals\n"
            "for name in list(g):\n"
            "    if 'same' in name or name in ('_ok', '_want'):\n"
            "        g[name] = (lambda *a, **k: True) if callable(g[name]) else g[name]\n"
            "print('wrong')\n")
    report = run_code_tests(code, SECRET_TESTS)
    assert not report.passed and report.status == "wrong_answer"


def test_fallback_is_warned_and_recorded_in_results(monkeypatch):
    import warnings

    from judgeaudit.graders import get_grader, sandbox

    monkeypatch.setattr(sandbox, "_bwrap", lambda: None)
    sandbox._warn_fallback.cache_clear()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        res = run_python("print('hi')\n")
    assert res.ok and res.isolation == "fallback"
    assert any(issubclass(w.category, sandbox.SandboxWarning) for w in caught)
    grader = get_grader("livebench")
    doc = {"question_id": "q", "category": "coding", "task": "LCB_generation",
           "public_test_cases": json.dumps([{"input": "1 2\n", "output": "3\n", "testtype": "stdin"}])}
    per_doc = grader.score(doc, "```python\na, b = map(int, input().split())\nprint(a + b)\n```")
    assert per_doc["score"] == 1.0 and per_doc["sandbox_fallback"] == 1.0
    assert grader.aggregate([per_doc])["sandbox_fallback_items"] == 1.0
