"""Run untrusted generated Python in a child process, never in this one.

Each run gets a fresh scratch directory as its working directory, a wall-clock limit
(the whole process group is killed when it passes), CPU-time, address-space and
file-size limits set with ``resource.setrlimit`` by the child before any answer code runs, no
network (a private network namespace through ``unshare -n`` where the kernel allows
it, and in every case a guard that makes ``socket`` unusable inside the child), and
its output written to files in the scratch directory, so a program that prints
without end cannot fill this process's memory.

This contains accidents (runaway loops, memory blow-ups, stray network calls) of
benchmark answers; it is not a security boundary against code written to escape.
"""

from __future__ import annotations

import functools
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from typing import Any, Literal, Sequence

Status = Literal["ok", "error", "timeout", "memory", "output_limit"]


@dataclass(frozen=True)
class SandboxLimits:
    timeout_s: float = 10.0          # wall clock for the whole child process
    memory_mb: int = 1024            # RLIMIT_AS: virtual address space
    output_mb: int = 16              # RLIMIT_FSIZE: largest file the child may write
    network: bool = False            # True only for trusted code; graders keep it off


@dataclass
class SandboxResult:
    status: Status
    returncode: int | None
    stdout: str
    stderr: str
    duration_s: float
    data: Any = field(default=None)   # parsed JSON the child wrote to its result file, if any

    @property
    def ok(self) -> bool:
        return self.status == "ok"


# Installed in the child before the untrusted code runs: every way of making a socket
# raises, so code that tries to reach the network fails even without a namespace.
_NETWORK_GUARD = r'''
import socket as _socket

def _no_network(*args, **kwargs):
    raise PermissionError("network access is disabled in the sandbox")

class _NoSocket(_socket.socket):
    def __init__(self, *args, **kwargs):
        _no_network()

_socket.socket = _NoSocket
_socket.create_connection = _no_network
_socket.socketpair = _no_network
_socket.fromfd = _no_network
_socket.getaddrinfo = _no_network
try:
    import _socket as _raw_socket
    _raw_socket.socket = _NoSocket
except Exception:
    pass
del _socket
'''


@functools.lru_cache(maxsize=1)
def _unshare_prefix() -> tuple[str, ...]:
    """`unshare -n` (a network namespace with no interfaces up) when this kernel lets us."""
    exe = shutil.which("unshare")
    if not exe:
        return ()
    try:
        probe = subprocess.run([exe, "-n", "true"], capture_output=True, timeout=5)
    except (OSError, subprocess.SubprocessError):
        return ()
    if probe.returncode == 0:
        return (exe, "-n")
    try:  # unprivileged users may still get one inside a user namespace
        probe = subprocess.run([exe, "-r", "-n", "true"], capture_output=True, timeout=5)
    except (OSError, subprocess.SubprocessError):
        return ()
    return (exe, "-r", "-n") if probe.returncode == 0 else ()


def network_isolation() -> str:
    """How the sandbox keeps children off the network here: 'namespace+guard' or 'guard'."""
    return "namespace+guard" if _unshare_prefix() else "guard"


def _limits_preamble(limits: SandboxLimits) -> str:
    """Code the child runs first: resource limits set inside the child itself, because a
    pre-exec hook in this (multi-threaded, torch-using) process can deadlock."""
    mem = limits.memory_mb * 1024 * 1024
    cpu = int(limits.timeout_s) + 2
    out = limits.output_mb * 1024 * 1024
    return ("import resource as _r\n"
            f"_r.setrlimit(_r.RLIMIT_AS, ({mem}, {mem}))\n"
            f"_r.setrlimit(_r.RLIMIT_CPU, ({cpu}, {cpu + 1}))\n"
            f"_r.setrlimit(_r.RLIMIT_FSIZE, ({out}, {out}))\n"
            "_r.setrlimit(_r.RLIMIT_CORE, (0, 0))\n"
            "del _r\n")


def _read_capped(path: str, limit: int = 1 << 20) -> str:
    try:
        with open(path, "rb") as fh:
            return fh.read(limit).decode("utf-8", errors="replace")
    except OSError:
        return ""


def run_python(code: str, *, stdin: str = "", limits: SandboxLimits = SandboxLimits(),
               files: dict[str, str] | None = None, args: Sequence[str] = ()) -> SandboxResult:
    """Run `code` as a script in a fresh child interpreter and scratch directory.

    `files` are written into the scratch directory first (for example test data); the
    child may write JSON to the file named by the environment variable SANDBOX_RESULT,
    which comes back parsed as `SandboxResult.data`.
    """
    with tempfile.TemporaryDirectory(prefix="judgeaudit-sandbox-") as scratch:
        main = os.path.join(scratch, "main.py")
        boot = os.path.join(scratch, "_sandbox_boot.py")
        result_path = os.path.join(scratch, "_sandbox_result.json")
        for name, text in (files or {}).items():
            with open(os.path.join(scratch, name), "w", encoding="utf-8") as fh:
                fh.write(text)
        with open(main, "w", encoding="utf-8") as fh:
            fh.write(code)
        with open(boot, "w", encoding="utf-8") as fh:
            fh.write(_limits_preamble(limits))
            if not limits.network:
                fh.write(_NETWORK_GUARD)
            fh.write("import runpy, sys\nsys.argv = [%r] + sys.argv[1:]\n"
                     "runpy.run_path(%r, run_name='__main__')\n" % (main, main))
        with open(os.path.join(scratch, "_stdin.txt"), "w", encoding="utf-8") as fh:
            fh.write(stdin)

        cmd = [*(() if limits.network else _unshare_prefix()), sys.executable, "-I", "-X", "utf8", boot, *args]
        env = {"PATH": "/usr/bin:/bin", "HOME": scratch, "TMPDIR": scratch, "LANG": "C.UTF-8",
               "PYTHONHASHSEED": "0", "SANDBOX_RESULT": result_path, "OMP_NUM_THREADS": "1"}
        out_path, err_path = os.path.join(scratch, "_stdout.txt"), os.path.join(scratch, "_stderr.txt")
        start = time.monotonic()
        timed_out = False
        with open(os.path.join(scratch, "_stdin.txt"), "rb") as fin, \
                open(out_path, "wb") as fout, open(err_path, "wb") as ferr:
            proc = subprocess.Popen(cmd, stdin=fin, stdout=fout, stderr=ferr, cwd=scratch, env=env,
                                    start_new_session=True)
            try:
                proc.wait(timeout=limits.timeout_s)
            except subprocess.TimeoutExpired:
                timed_out = True
                _kill_group(proc)
        duration = time.monotonic() - start
        stdout, stderr = _read_capped(out_path), _read_capped(err_path)
        data = None
        if os.path.exists(result_path):
            try:
                data = json.loads(_read_capped(result_path, 64 << 20))
            except ValueError:
                data = None
        rc = proc.returncode
        if timed_out or rc in (-signal.SIGXCPU, -signal.SIGKILL):
            status: Status = "timeout"
        elif rc == -signal.SIGXFSZ or "[Errno 27]" in stderr[-4000:]:  # Python ignores SIGXFSZ: EFBIG
            status = "output_limit"
        elif "MemoryError" in stderr[-4000:]:
            status = "memory"
        elif rc != 0:
            status = "error"
        else:
            status = "ok"
        return SandboxResult(status=status, returncode=rc, stdout=stdout, stderr=stderr,
                             duration_s=duration, data=data)


def _kill_group(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        proc.kill()
    proc.wait()
