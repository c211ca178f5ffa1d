"""Run a grading function in a helper process that is killed when it overruns.

Symbolic equivalence (sympy, math-verify) can run for hours on an adversarial answer
such as `(10^{100})!`, inside C code that no signal handler interrupts, and
math-verify's own SIGALRM timeouts only work on the main thread. So every such check
runs in a long-lived child process under a hard wall-clock limit: if no answer comes
back in time the child is killed (and replaced on the next call) and the caller gets
`CheckTimeout`. The child is a fresh interpreter (not a fork), so it never inherits this process's
threads, CUDA state or open model files.
"""

from __future__ import annotations

import importlib
import json
import os
import selectors
import subprocess
import sys
import threading
import time
from typing import Any

# Called in the child before the first timed call, so that import time (seconds on a
# loaded machine) never counts against an item's limit, and no alarm inside a check can
# interrupt a half-finished import (which leaves numpy or sympy broken for good).
WARM_UP = ("judgeaudit.graders.math_answers:warm_up",)
WARM_TIMEOUT_S = 120.0
CHILD_MEMORY_BYTES = 4 << 30


class CheckTimeout(Exception):
    """The check did not finish within its limit; the child was killed."""


class CheckFailed(Exception):
    """The child died or the function raised; the message says how."""


def _child_main() -> None:
    """The child: one JSON request per line on stdin, one JSON reply per line on stdout."""
    import resource

    try:  # a runaway expression fails with MemoryError rather than starving the machine
        resource.setrlimit(resource.RLIMIT_AS, (CHILD_MEMORY_BYTES, CHILD_MEMORY_BYTES))
    except (ValueError, OSError):
        pass
    out = sys.stdout
    sys.stdout = sys.stderr  # library prints must not corrupt the reply stream
    for target in json.loads(sys.argv[1]) if len(sys.argv) > 1 else ():
        module, _, attr = target.partition(":")
        try:
            getattr(importlib.import_module(module), attr)()
        except Exception:  # an optional parser runtime may be missing; calls will say so
            pass
    out.write('["ready", null]\n')
    out.flush()
    for line in sys.stdin:
        target, args = json.loads(line)
        module, _, attr = target.partition(":")
        try:
            reply = ["ok", getattr(importlib.import_module(module), attr)(*args)]
        except BaseException as exc:  # reported to the parent, which decides what it means
            reply = ["error", f"{type(exc).__name__}: {str(exc)[:300]}"]
        out.write(json.dumps(reply) + "\n")
        out.flush()


class GuardedWorker:
    """One child process; `call` runs `module:function(*args)` there with a time limit.
    Arguments and results must be JSON values."""

    def __init__(self, warm: tuple[str, ...] = WARM_UP) -> None:
        self._warm = warm
        self._proc: subprocess.Popen | None = None
        self._buffer = b""
        self._lock = threading.Lock()
        self.restarts = 0

    def _read_line(self, timeout_s: float) -> bytes | None:
        """One line from the child, or None when `timeout_s` passes first."""
        deadline = time.monotonic() + timeout_s
        fd = self._proc.stdout.fileno()
        with selectors.DefaultSelector() as sel:
            sel.register(fd, selectors.EVENT_READ)
            while b"\n" not in self._buffer:
                left = deadline - time.monotonic()
                if left <= 0 or not sel.select(left):
                    return None
                chunk = os.read(fd, 1 << 16)
                if not chunk:
                    raise CheckFailed("the checking process died")
                self._buffer += chunk
        line, _, self._buffer = self._buffer.partition(b"\n")
        return line

    def _start(self) -> None:
        self._proc = subprocess.Popen(
            [sys.executable, "-m", "judgeaudit.graders.guarded", json.dumps(list(self._warm))],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, start_new_session=True)
        self._buffer = b""
        if self._read_line(WARM_TIMEOUT_S) is None:
            self._stop()
            raise CheckFailed("the checking process did not start")

    def _stop(self) -> None:
        if self._proc is not None:
            self._proc.kill()
            self._proc.wait()
            for pipe in (self._proc.stdin, self._proc.stdout):
                try:
                    pipe.close()
                except OSError:
                    pass
        self._proc = None

    def call(self, target: str, *args: Any, timeout_s: float) -> Any:
        with self._lock:
            try:
                if self._proc is None or self._proc.poll() is not None:
                    self._stop()
                    self._start()
                self._proc.stdin.write((json.dumps([target, list(args)]) + "\n").encode("utf-8"))
                self._proc.stdin.flush()
                line = self._read_line(timeout_s)
            except (BrokenPipeError, OSError, CheckFailed) as exc:
                self._stop()
                raise CheckFailed(f"the checking process died: {exc}") from None
            if line is None:
                self._stop()
                self.restarts += 1
                raise CheckTimeout(f"{target} did not finish in {timeout_s:g} s")
        status, value = json.loads(line)
        if status != "ok":
            raise CheckFailed(value)
        return value

    def close(self) -> None:
        with self._lock:
            self._stop()


_shared: GuardedWorker | None = None
_shared_lock = threading.Lock()


def shared_worker() -> GuardedWorker:
    """The process-wide checking worker (started on first use, killed at exit)."""
    global _shared
    with _shared_lock:
        if _shared is None:
            import atexit

            _shared = GuardedWorker()
            atexit.register(_shared.close)
        return _shared


if __name__ == "__main__":
    _child_main()
