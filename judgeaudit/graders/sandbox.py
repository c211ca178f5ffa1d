"""Run untrusted generated Python in a child process, never in this one.

Where bubblewrap (`bwrap`) works, the child runs in its own PID, network, IPC and UTS
namespaces with a cleared environment and a private /proc, so it sees none of this
process's /proc entries (no `/proc/<ppid>/environ`, no `/proc/<ppid>/ns/net` to enter).
Its file system is the interpreter and system libraries mounted read-only plus a fresh
scratch directory (`/sandbox`, its working directory): writes anywhere else fail. When
this process is root the child runs as `nobody`, so the process cap (RLIMIT_NPROC) holds.
On the wall-clock limit the sandbox's PID namespace is torn down, which kills every
process in it, including `setsid` or double-forked ones.

Without a working bubblewrap the child runs as a plain subprocess (its own session, a
network namespace through `unshare -n` where allowed, a Python-level socket guard); the
result then says `isolation="fallback"` and a SandboxWarning is issued once, because that
mode contains accidents, not code written to escape.

In both modes CPU-time, address-space, file-size and process limits are set by the child
before any answer code runs, and its output goes to capped files in the scratch directory.
"""

from __future__ import annotations

import functools
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import warnings
from dataclasses import dataclass, field
from typing import Literal, Sequence

Status = Literal["ok", "error", "timeout", "memory", "output_limit"]
Isolation = Literal["bubblewrap", "fallback"]

SANDBOX_DIR = "/sandbox"          # the scratch directory as the child sees it under bubblewrap
NOBODY = 65534


class SandboxWarning(UserWarning):
    """Untrusted code ran without the bubblewrap sandbox."""


@dataclass(frozen=True)
class SandboxLimits:
    timeout_s: float = 10.0          # wall clock for the whole sandbox
    memory_mb: int = 1024            # RLIMIT_AS: virtual address space
    output_mb: int = 16              # RLIMIT_FSIZE: largest file the child may write
    max_processes: int = 64          # RLIMIT_NPROC: processes (threads count too) the child may run
    network: bool = False            # True only for trusted code; graders keep it off


@dataclass
class SandboxResult:
    status: Status
    returncode: int | None
    stdout: str
    stderr: str
    duration_s: float
    isolation: Isolation = "bubblewrap"
    files: dict[str, str] = field(default_factory=dict)   # the files asked for in `read_back`

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


# ---- bubblewrap -------------------------------------------------------------------------

def _system_mounts() -> list[str]:
    """bwrap arguments that make the system directories visible read-only (symlinks such as
    /bin -> usr/bin are recreated as symlinks)."""
    args: list[str] = []
    for path in ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/etc/alternatives",
                 "/etc/ld.so.cache", "/etc/localtime"):
        if os.path.islink(path):
            args += ["--symlink", os.readlink(path), path]
        elif os.path.exists(path):
            args += ["--ro-bind", path, path]
    return args


def _python_roots() -> list[str]:
    """Directories the interpreter needs: its prefixes and every library directory on sys.path."""
    roots: set[str] = set()
    for path in (sys.prefix, sys.base_prefix, sys.exec_prefix, os.path.dirname(os.path.realpath(sys.executable))):
        roots.add(os.path.realpath(path))
    for entry in sys.path:
        if entry and ("site-packages" in entry or "dist-packages" in entry or "/lib/python" in entry):
            if os.path.isdir(entry):
                roots.add(os.path.realpath(entry))
    # Drop directories already inside another one (and system directories bound anyway).
    ordered = sorted(roots, key=len)
    kept: list[str] = []
    for root in ordered:
        if root.startswith(("/usr/", "/lib")) or root == "/usr":
            continue
        if not any(root == k or root.startswith(k + os.sep) for k in kept):
            kept.append(root)
    return kept


@functools.lru_cache(maxsize=1)
def _privilege_drop() -> tuple[str, ...]:
    """When this process is root: `setpriv` to `nobody` inside the sandbox (root is exempt
    from RLIMIT_NPROC, and the answer needs no privileges)."""
    if os.geteuid() != 0:
        return ()
    exe = shutil.which("setpriv")
    if not exe:
        return ()
    return (exe, f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups", "--no-new-privs")


def _bwrap_command(bwrap: str, scratch: str, network: bool) -> list[str]:
    if os.geteuid() == 0:
        # As root, no user namespace: the child then becomes a real unprivileged user.
        unshare = ["--unshare-ipc", "--unshare-pid", "--unshare-uts", "--unshare-cgroup-try"]
        if not network:
            unshare.append("--unshare-net")
    else:
        unshare = ["--unshare-all"] + (["--share-net"] if network else [])
    cmd = [bwrap, *unshare, "--die-with-parent", "--new-session", "--clearenv", *_system_mounts()]
    for root in _python_roots():
        cmd += ["--ro-bind", root, root]
    cmd += ["--proc", "/proc", "--dev", "/dev", "--bind", scratch, SANDBOX_DIR, "--chdir", SANDBOX_DIR]
    env = {"PATH": "/usr/bin:/bin", "HOME": SANDBOX_DIR, "TMPDIR": SANDBOX_DIR, "LANG": "C.UTF-8",
           "PYTHONHASHSEED": "0", "OMP_NUM_THREADS": "1", "PYTHONDONTWRITEBYTECODE": "1"}
    for key, value in env.items():
        cmd += ["--setenv", key, value]
    cmd += ["--remount-ro", "/", "--", *_privilege_drop()]
    return cmd


@functools.lru_cache(maxsize=1)
def _bwrap() -> str | None:
    """The bubblewrap executable if it can start this interpreter in a sandbox here."""
    exe = shutil.which("bwrap")
    if not exe:
        return None
    scratch = tempfile.mkdtemp(prefix="judgeaudit-sandbox-probe-")
    try:
        _give_to_sandbox_user(scratch)
        cmd = _bwrap_command(exe, scratch, network=False) + [sys.executable, "-I", "-c", "import os; print(os.getcwd())"]
        probe = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.SubprocessError):
        return None
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return exe if probe.returncode == 0 and probe.stdout.strip() == SANDBOX_DIR else None


def _give_to_sandbox_user(path: str) -> None:
    """The scratch directory must be writable by the user the child runs as."""
    if _privilege_drop():
        for dirpath, dirnames, filenames in os.walk(path):
            os.chown(dirpath, NOBODY, NOBODY)
            for name in filenames:
                os.chown(os.path.join(dirpath, name), NOBODY, NOBODY)


def isolation() -> Isolation:
    """How untrusted code runs here: 'bubblewrap', or 'fallback' (weaker; see the module doc)."""
    return "bubblewrap" if _bwrap() else "fallback"


@functools.lru_cache(maxsize=1)
def _warn_fallback() -> None:
    warnings.warn("bubblewrap (bwrap) is not available or does not work here: untrusted benchmark code runs "
                  "without its sandbox (own PID namespace, private /proc, read-only file system). Install "
                  "bubblewrap (apt-get install bubblewrap) for isolated grading.", SandboxWarning, stacklevel=3)


# ---- fallback ---------------------------------------------------------------------------

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
    """How children are kept off the network here: 'namespace+guard' or 'guard'."""
    return "namespace+guard" if (_bwrap() or _unshare_prefix()) else "guard"


# ---- running ----------------------------------------------------------------------------

def _own_process_count() -> int:
    """Processes of this user now (RLIMIT_NPROC counts them all, not only the child's)."""
    uid, count = os.getuid(), 0
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                if os.stat(f"/proc/{entry}").st_uid == uid:
                    count += 1
            except OSError:
                continue
    return count


def _limits_preamble(limits: SandboxLimits, sandboxed_as_nobody: bool) -> str:
    """Code the child runs first: resource limits set inside the child itself, because a
    pre-exec hook in this (multi-threaded, torch-using) process can deadlock."""
    mem = limits.memory_mb * 1024 * 1024
    cpu = int(limits.timeout_s) + 2
    out = limits.output_mb * 1024 * 1024
    nproc = limits.max_processes if sandboxed_as_nobody else _own_process_count() + limits.max_processes
    return ("import resource as _r\n"
            f"_r.setrlimit(_r.RLIMIT_AS, ({mem}, {mem}))\n"
            f"_r.setrlimit(_r.RLIMIT_CPU, ({cpu}, {cpu + 1}))\n"
            f"_r.setrlimit(_r.RLIMIT_FSIZE, ({out}, {out}))\n"
            f"_r.setrlimit(_r.RLIMIT_NPROC, ({nproc}, {nproc}))\n"
            "_r.setrlimit(_r.RLIMIT_CORE, (0, 0))\n"
            "del _r\n")


def _read_capped(path: str, limit: int = 1 << 20) -> str:
    try:
        with open(path, "rb") as fh:
            return fh.read(limit).decode("utf-8", errors="replace")
    except OSError:
        return ""


def run_python(code: str, *, stdin: str = "", limits: SandboxLimits = SandboxLimits(),
               files: dict[str, str] | None = None, args: Sequence[str] = (),
               read_back: Sequence[str] = (), read_back_limit: int = 64 << 20) -> SandboxResult:
    """Run `code` as a script in a fresh child interpreter and scratch directory.

    `files` are written into the scratch directory first; the files named in `read_back`
    (written there by the child) come back, capped, in `SandboxResult.files`. Nothing the
    child writes is trusted: callers decide what its output means.
    """
    bwrap = None if limits.network else _bwrap()
    if not bwrap and not limits.network:
        _warn_fallback()
    with tempfile.TemporaryDirectory(prefix="judgeaudit-sandbox-") as scratch:
        seen_dir = SANDBOX_DIR if bwrap else scratch
        boot = os.path.join(scratch, "_sandbox_boot.py")
        for name, text in (files or {}).items():
            with open(os.path.join(scratch, name), "w", encoding="utf-8") as fh:
                fh.write(text)
        with open(os.path.join(scratch, "main.py"), "w", encoding="utf-8") as fh:
            fh.write(code)
        main = os.path.join(seen_dir, "main.py")
        with open(boot, "w", encoding="utf-8") as fh:
            fh.write(_limits_preamble(limits, bool(bwrap and _privilege_drop())))
            if not limits.network:
                fh.write(_NETWORK_GUARD)
            fh.write("import runpy, sys\nsys.argv = [%r] + sys.argv[1:]\n"
                     "runpy.run_path(%r, run_name='__main__')\n" % (main, main))
        if bwrap:
            _give_to_sandbox_user(scratch)

        python = [sys.executable, "-I", "-X", "utf8", os.path.join(seen_dir, "_sandbox_boot.py"), *args]
        if bwrap:
            cmd, env = _bwrap_command(bwrap, scratch, limits.network) + python, {}
        else:
            cmd = [*(() if limits.network else _unshare_prefix()), *python]
            env = {"PATH": "/usr/bin:/bin", "HOME": scratch, "TMPDIR": scratch, "LANG": "C.UTF-8",
                   "PYTHONHASHSEED": "0", "OMP_NUM_THREADS": "1"}
        # Standard streams live outside the scratch directory: the child cannot replace them.
        with tempfile.TemporaryDirectory(prefix="judgeaudit-sandbox-io-") as io_dir:
            out_path, err_path = os.path.join(io_dir, "stdout"), os.path.join(io_dir, "stderr")
            start = time.monotonic()
            timed_out = False
            with tempfile.TemporaryFile() as fin, open(out_path, "wb") as fout, open(err_path, "wb") as ferr:
                fin.write(stdin.encode("utf-8"))
                fin.seek(0)
                proc = subprocess.Popen(cmd, stdin=fin, stdout=fout, stderr=ferr, cwd=scratch, env=env,
                                        start_new_session=True)
                try:
                    proc.wait(timeout=limits.timeout_s)
                except subprocess.TimeoutExpired:
                    timed_out = True
                    _kill(proc)
            duration = time.monotonic() - start
            stdout, stderr = _read_capped(out_path), _read_capped(err_path)
        back = {}
        for name in read_back:
            path = os.path.join(scratch, name)
            if os.path.isfile(path) and not os.path.islink(path):
                back[name] = _read_capped(path, read_back_limit)
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
        return SandboxResult(status=status, returncode=rc, stdout=stdout, stderr=stderr, duration_s=duration,
                             isolation="bubblewrap" if bwrap else "fallback", files=back)


def _kill(proc: subprocess.Popen) -> None:
    """Under bubblewrap, killing it tears down the PID namespace (and every process in it);
    in the fallback, the child's process group is killed."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        proc.kill()
    proc.wait()
