"""Benchmark: the fused LM-head log-prob op against eager PyTorch, measured in one run.

    python perf/bench_lm_head_logprobs.py                 # CUDA: full grid, bf16
    python perf/bench_lm_head_logprobs.py --dtype float16
    python perf/bench_lm_head_logprobs.py --quick         # a small subset (automatic on CPU)
    python perf/bench_lm_head_logprobs.py --n 64 256 --d 576 --v 49152

Eager baseline: ``logits = h @ W.T`` in the input dtype, ``log_softmax(logits.float())``,
``gather`` at the targets, and ``argmax(logits) == targets`` for the greedy flag (the op returns
both). Peak memory is the extra memory a call needs beyond its inputs: on CUDA from
``torch.cuda.max_memory_allocated``; on CPU the largest increase of the process RSS, sampled
every millisecond by a background thread (psutil) while the call runs, with glibc told to
mmap every allocation above 64 KiB so that freed memory leaves the RSS. On CUDA the op is the
Triton kernel (autotuned on a warm-up call that is not timed); on CPU it is the chunked torch
path, since the Triton interpreter says nothing about speed.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import threading
import time
from dataclasses import dataclass

import torch

from judgeaudit.kernels import lm_head_logprobs

try:
    from rich.console import Console
    from rich.progress import Progress
    from rich.table import Table
except ImportError:  # the GPU machine may have only torch, triton and transformers
    import re as _re

    class Console:  # type: ignore[no-redef]
        def __init__(self, **_):
            pass

        def print(self, obj="", **_):
            print(obj.render() if isinstance(obj, Table) else _re.sub(r"\[/?[a-z ]+\]", "", str(obj)))

    class Table:  # type: ignore[no-redef]
        def __init__(self, title=""):
            self.title, self.columns, self.rows = title, [], []

        def add_column(self, name, **_):
            self.columns.append(name)

        def add_row(self, *cells):
            self.rows.append(cells)

        def render(self):
            return "\n".join([self.title, " | ".join(self.columns)] + [" | ".join(map(str, r)) for r in self.rows])

    class Progress:  # type: ignore[no-redef]
        def __init__(self, **_):
            pass

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

        def add_task(self, *a, **k):
            return 0

        def update(self, *a, **k):
            pass

        def advance(self, *a, **k):
            pass

FULL_N = (1024, 4096, 16384)
FULL_D = (576, 2048, 4096)
FULL_V = (49152, 128256)
QUICK_SHAPES = ((1024, 576, 49152), (4096, 576, 49152), (1024, 2048, 49152))
GOAL_SHAPE = (16384, 4096, 128256)

# Dense bf16/fp16 tensor-core peaks from NVIDIA's data sheets, in TFLOP/s (without sparsity).
BF16_PEAKS = (("H200", 989.0), ("H100 NVL", 835.0), ("H100 PCIE", 756.0), ("H100", 989.0))
DTYPES = {"bfloat16": torch.bfloat16, "float16": torch.float16, "float32": torch.float32}


@dataclass
class Measurement:
    seconds: float | None
    peak_bytes: int | None
    error: str | None = None


def card_bf16_peak(name: str) -> float | None:
    upper = name.upper()
    for key, peak in BF16_PEAKS:
        if key in upper:
            return peak
    return None


def eager_logprobs(hidden, weight, targets):
    logits = hidden @ weight.T
    logprob = torch.log_softmax(logits.float(), dim=-1).gather(1, targets[:, None]).squeeze(1)
    return logprob, logits.argmax(dim=-1) == targets


def mmap_large_allocations() -> bool:
    """Make glibc serve every allocation above 64 KiB by mmap and unmap it on free.

    By default glibc keeps freed memory in its heap and raises its mmap threshold as large
    blocks are freed, so a later allocation can reuse memory without the RSS moving; with a
    fixed low threshold the RSS follows what is allocated. Returns False where unavailable.
    """
    try:
        import ctypes

        libc = ctypes.CDLL("libc.so.6")
        m_mmap_threshold = -3
        return bool(libc.mallopt(m_mmap_threshold, 64 * 1024))
    except (OSError, AttributeError):
        return False


class RssPeak:
    """Largest RSS increase over the starting RSS while the context is open (CPU only)."""

    def __init__(self, interval_s: float = 0.001):
        import psutil  # CPU runs only; the GPU machine may not have it

        self.interval_s = interval_s
        self.process = psutil.Process()
        self.peak = 0
        self._stop = threading.Event()

    def _poll(self):
        while not self._stop.is_set():
            self.peak = max(self.peak, self.process.memory_info().rss - self.start)
            time.sleep(self.interval_s)

    def __enter__(self):
        self.start = self.process.memory_info().rss
        self._thread = threading.Thread(target=self._poll, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self.process.memory_info().rss - self.start)


def measure(fn, device: torch.device, reps: int) -> Measurement:
    try:
        if device.type == "cuda":
            import triton.testing

            fn()  # warm-up: compilation and autotuning
            torch.cuda.synchronize()
            torch.cuda.empty_cache()
            torch.cuda.reset_peak_memory_stats()
            base = torch.cuda.memory_allocated()
            out = fn()
            torch.cuda.synchronize()
            peak = torch.cuda.max_memory_allocated() - base
            del out
            ms = triton.testing.do_bench(fn, warmup=25, rep=max(100, 40 * reps), return_mode="median")
            return Measurement(ms / 1e3, peak)
        fn()
        with RssPeak() as rss:
            out = fn()
        del out
        times = []
        for _ in range(reps):
            start = time.perf_counter()
            fn()
            times.append(time.perf_counter() - start)
        return Measurement(statistics.median(times), rss.peak)
    except torch.cuda.OutOfMemoryError:
        torch.cuda.empty_cache()
        return Measurement(None, None, "OOM")


def fmt_time(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    return f"{seconds * 1e3:.3g} ms" if seconds < 1 else f"{seconds:.2f} s"


def fmt_bytes(n: int | None) -> str:
    if n is None:
        return "-"
    for unit, size in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if abs(n) >= size:
            return f"{n / size:.1f} {unit}"
    return f"{n} B"


def ratio(a: float | None, b: float | None) -> str:
    if a is None or b is None or b <= 0:
        return "-"
    return f"{a / b:.1f}x"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dtype", choices=sorted(DTYPES), default=None, help="default: bfloat16 on CUDA, float32 on CPU")
    parser.add_argument("--device", default=None, help="default: cuda when available, else cpu")
    parser.add_argument("--quick", action="store_true", help="a small subset of shapes (automatic on CPU)")
    parser.add_argument("--n", type=int, nargs="+", help="rows (tokens); overrides the grid")
    parser.add_argument("--d", type=int, nargs="+", help="hidden sizes; overrides the grid")
    parser.add_argument("--v", type=int, nargs="+", help="vocabulary sizes; overrides the grid")
    parser.add_argument("--impl", choices=("auto", "triton", "torch"), default="auto", help="which op implementation")
    parser.add_argument("--reps", type=int, default=3, help="timed repetitions on CPU (CUDA uses do_bench)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json-out", default=None, help="also write every row's figures (and the goals) as JSON")
    args = parser.parse_args()

    # A wide console when piped, so the table is not wrapped into unreadable columns.
    console = Console(width=None if sys.stdout.isatty() else 220)
    device = torch.device(args.device or ("cuda" if torch.cuda.is_available() else "cpu"))
    dtype = DTYPES[args.dtype or ("bfloat16" if device.type == "cuda" else "float32")]
    quick = args.quick or device.type != "cuda"
    if args.n or args.d or args.v:
        shapes = [
            (n, d, v)
            for n in (args.n or FULL_N)
            for d in (args.d or FULL_D)
            for v in (args.v or FULL_V)
        ]
        quick = False
    elif quick:
        shapes = list(QUICK_SHAPES)
    else:
        shapes = [(n, d, v) for n in FULL_N for d in FULL_D for v in FULL_V]

    impl_ran = args.impl if args.impl != "auto" else ("triton" if device.type == "cuda" else "torch")
    if device.type == "cuda":
        name = torch.cuda.get_device_name(device)
        spec_peak = card_bf16_peak(name)
        console.print(f"device: {name}; dtype {str(dtype).removeprefix('torch.')}; op impl: {impl_ran}")
        console.print(
            "bf16 dense peak from the data sheet: " + (f"{spec_peak:.0f} TFLOP/s" if spec_peak else "unknown card")
        )
    else:
        spec_peak = None
        if not mmap_large_allocations():
            console.print("[yellow]could not fix the malloc mmap threshold: CPU peak memory may be understated[/yellow]")
        console.print(
            f"device: cpu ({os.cpu_count()} logical cores); dtype {str(dtype).removeprefix('torch.')}; "
            f"op impl: {impl_ran}"
        )
    if quick:
        why = (
            f"the full 18-shape grid needs a GPU: at N=16384, V=128256 eager holds "
            f"~{16384 * 128256 * 10 / 2**30:.0f} GiB of logits"
            if device.type != "cuda"
            else "--quick"
        )
        console.print(f"[yellow]quick subset of {len(shapes)} shapes ({why})[/yellow]")

    gen = torch.Generator().manual_seed(args.seed)
    rows = []
    goal = None
    with Progress(console=console, transient=True) as progress:
        task = progress.add_task("benchmarking", total=len(shapes))
        for n, d, v in shapes:
            progress.update(task, description=f"N={n} d={d} V={v}")
            hidden = (torch.randn(n, d, generator=gen) / d**0.25).to(device=device, dtype=dtype)
            weight = (torch.randn(v, d, generator=gen) / d**0.25).to(device=device, dtype=dtype)
            targets = torch.randint(0, v, (n,), generator=gen).to(device)

            def op():
                return lm_head_logprobs(hidden, weight, targets, impl=args.impl)

            def eager():
                return eager_logprobs(hidden, weight, targets)

            fused = measure(op, device, args.reps)
            base = measure(eager, device, args.reps)
            # Agreement between the two on these inputs (a check of the kernel on real hardware).
            max_err, same = "-", "-"
            if fused.error is None and base.error is None:
                got, want = op(), eager()
                max_err = f"{float((got[0] - want[0]).abs().max()):.1e}"
                same = f"{int((got[1] == want[1]).sum())}/{n}"
                del got, want
            flops = 2.0 * n * d * v
            matmul = None
            if device.type == "cuda":
                matmul = measure(lambda: hidden @ weight.T, device, args.reps)
            row = dict(
                shape=(n, d, v),
                op=fused,
                eager=base,
                matmul=matmul,
                flops=flops,
                max_err=max_err,
                same=same,
            )
            rows.append(row)
            if (n, d, v) == GOAL_SHAPE:
                goal = row
            del hidden, weight, targets
            if device.type == "cuda":
                torch.cuda.empty_cache()
            progress.advance(task)

    table = Table(title=f"LM-head log-probs: fused op ({impl_ran}) vs eager, {str(dtype).removeprefix('torch.')}, {device.type}")
    for col in ("N", "d", "V", "op time", "eager time", "speedup", "op peak mem", "eager peak mem", "mem ratio"):
        table.add_column(col, justify="right")
    if device.type == "cuda":
        for col in ("op TFLOP/s", "matmul TFLOP/s", "% matmul", "% spec peak"):
            table.add_column(col, justify="right")
    table.add_column("max |op-eager| logp", justify="right")
    table.add_column("greedy agree", justify="right")
    for row in rows:
        n, d, v = row["shape"]
        fused, base = row["op"], row["eager"]
        cells = [
            str(n),
            str(d),
            str(v),
            fused.error or fmt_time(fused.seconds),
            base.error or fmt_time(base.seconds),
            ratio(base.seconds, fused.seconds),
            fmt_bytes(fused.peak_bytes),
            fmt_bytes(base.peak_bytes),
            ratio(base.peak_bytes, fused.peak_bytes),
        ]
        if device.type == "cuda":
            op_tflops = row["flops"] / fused.seconds / 1e12 if fused.seconds else None
            mm_tflops = row["flops"] / row["matmul"].seconds / 1e12 if row["matmul"].seconds else None
            cells += [
                f"{op_tflops:.0f}" if op_tflops else "-",
                f"{mm_tflops:.0f}" if mm_tflops else "-",
                f"{100 * op_tflops / mm_tflops:.0f}%" if op_tflops and mm_tflops else "-",
                f"{100 * op_tflops / spec_peak:.0f}%" if op_tflops and spec_peak else "-",
            ]
        cells += [row["max_err"], row["same"]]
        table.add_row(*cells)
    console.print(table)
    console.print(
        "speedup = eager time / op time; mem ratio = eager peak / op peak (extra memory beyond the inputs); "
        + ("times are do_bench medians" if device.type == "cuda" else f"times are medians of {args.reps} runs")
    )

    figures: dict = {"device": torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu",
                     "dtype": str(dtype).removeprefix("torch."), "impl": impl_ran, "rows": [], "goals": {}}
    for row in rows:
        n, d, v = row["shape"]
        mm = row["matmul"]
        figures["rows"].append({
            "n": n, "d": d, "v": v, "op_seconds": row["op"].seconds, "eager_seconds": row["eager"].seconds,
            "op_peak_bytes": row["op"].peak_bytes, "eager_peak_bytes": row["eager"].peak_bytes,
            "matmul_seconds": mm.seconds if mm else None, "flops": row["flops"], "op_error": row["op"].error,
            "eager_error": row["eager"].error, "max_abs_err": row["max_err"], "greedy_agree": row["same"]})
    if goal is not None and device.type == "cuda":
        fused, base, matmul = goal["op"], goal["eager"], goal["matmul"]
        if fused.seconds and base.seconds and matmul.seconds:
            speed = base.seconds / fused.seconds
            mem = (base.peak_bytes or 0) / max(fused.peak_bytes or 1, 1)
            frac = matmul.seconds / fused.seconds
            checks = [
                ("speedup >= 1.5x", speed >= 1.5, f"{speed:.2f}x"),
                ("peak memory >= 10x less", mem >= 10, f"{mem:.0f}x"),
                ("> 50% of measured matmul throughput", frac > 0.5, f"{100 * frac:.0f}%"),
            ]
            if spec_peak:
                spec_frac = goal["flops"] / fused.seconds / 1e12 / spec_peak
                checks.append(("> 50% of data-sheet bf16 peak", spec_frac > 0.5, f"{100 * spec_frac:.0f}%"))
            console.print(f"goals at N={GOAL_SHAPE[0]}, d={GOAL_SHAPE[1]}, V={GOAL_SHAPE[2]}:")
            for label, ok, value in checks:
                console.print(f"  {'[green]met[/green]' if ok else '[red]missed[/red]'}  {label}: {value}")
                figures["goals"][label] = {"met": bool(ok), "value": value}
    if args.json_out:
        with open(args.json_out, "w", encoding="utf-8") as fh:
            json.dump(figures, fh, indent=2)
            fh.write("\n")


if __name__ == "__main__":
    main()
