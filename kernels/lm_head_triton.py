"""Triton kernel for target log-probabilities through the LM head, never holding [N, V] logits.

Two launches:

1. ``_lm_head_partials_kernel``: each program owns BLOCK_N rows of ``hidden`` and one
   contiguous slice of the vocabulary. It walks its slice in BLOCK_V tiles; for each tile it
   accumulates ``h @ W_tile^T`` in fp32 over d in BLOCK_D chunks (masked, so d need not be a
   power of two), applies bias and softcap, and folds the tile into a running max, a running
   sum of ``exp(z - max)`` (online logsumexp), a running argmax and the target's logit.
   It writes those four numbers per (slice, row) to small [splits, N] buffers.
2. ``_lm_head_combine_kernel``: merges the per-slice partials of each row into
   ``logprob = z_t - logsumexp(z)`` and ``greedy = argmax(z) == t``.

Why split the vocabulary across programs (split-V) instead of one program per row block:
- small N (the scoring engine's usual case: a few hundred continuation tokens) gives only a
  handful of row blocks; one program per row block would stream all of W through a few SMs.
  Splitting V gives about two programs per SM, so W is read once at full HBM bandwidth.
- large N: programs are ordered in groups of GROUP_N row blocks x all slices, so the ~130
  programs resident at once share both their h rows and their W tiles in L2 (the same idea
  as the grouped tile order of a matmul). Without it every V step would need all of h,
  which does not fit in L2 at N=16k, d=4k. Hence at least MIN_SPLITS slices even at large N.
The second pass reads only 4 x splits x N numbers, negligible next to the matmul.

Ties in the argmax: the lowest vocabulary index wins (as ``torch.argmax``): within a tile as
the smallest column equal to the tile maximum, across tiles because a later tile replaces
the running argmax only when strictly greater, and across slices because the combine pass
takes the first slice that holds the maximum.
"""

from __future__ import annotations

import os

import torch
import triton
import triton.language as tl

from judgeaudit.kernels.lm_head import check_lm_head_inputs

INTERPRETED = os.environ.get("TRITON_INTERPRET", "0") == "1"

# Row blocks grouped together in the program order (L2 reuse, see the module docstring).
GROUP_N = 16
# Fewest vocabulary slices per launch; more when the row blocks alone cannot fill the GPU.
MIN_SPLITS = 8
# Programs aimed for per SM when N is small.
PROGRAMS_PER_SM = 2
# SM count assumed under the interpreter: small, so the tests exercise several slices.
INTERPRETER_SMS = 2


def _config(block_n: int, block_v: int, block_d: int, warps: int, stages: int) -> triton.Config:
    return triton.Config(
        {"BLOCK_N": block_n, "BLOCK_V": block_v, "BLOCK_D": block_d}, num_warps=warps, num_stages=stages
    )


if INTERPRETED:
    # Small tiles keep the CPU interpreter fast and make the masking paths (partial V tile,
    # partial d chunk, rows past N) show up on small test shapes.
    CONFIGS = [_config(16, 32, 16, 4, 1)]
else:
    # Hopper (H100/H200): wgmma wants BLOCK_N >= 64 and 4/8 warps; a 128 x 128 fp32 tile is
    # 64 registers per thread with 8 warps, leaving room for the logsumexp epilogue. The
    # BLOCK_N = 16/32 configs serve small N (the scoring engine's usual case), where the kernel
    # is bound by reading W and a taller row block would only be padding. The last two are
    # small enough for any GPU's shared memory and for fp32 inputs.
    CONFIGS = [
        _config(16, 128, 128, 4, 4),
        _config(16, 256, 64, 4, 4),
        _config(32, 128, 128, 4, 4),
        _config(64, 128, 64, 4, 4),
        _config(64, 256, 64, 8, 3),
        _config(128, 128, 64, 8, 4),
        _config(128, 128, 64, 8, 3),
        _config(128, 256, 64, 8, 3),
        _config(128, 128, 128, 8, 3),
        _config(16, 128, 64, 4, 3),
        _config(64, 64, 32, 4, 2),
    ]


def _shared_memory_budget(device: torch.device) -> int:
    """Bytes of shared memory a config's pipeline buffers may take (with margin for scratch)."""
    if device.type != "cuda":
        return 1 << 30
    major, minor = torch.cuda.get_device_capability(device)
    if major >= 9:
        return 200 * 1024  # Hopper: 227 KiB per block
    if (major, minor) in ((8, 0), (8, 7)):
        return 140 * 1024  # A100 / Orin: 163 KiB
    return 80 * 1024  # other Ampere / Ada: 99 KiB


def _prune_configs(configs, named_args, **kwargs):
    """Drop configs whose row block is far taller than N (pure padding) or whose pipeline
    buffers (stages x (h tile + W tile)) cannot fit in shared memory for this dtype."""
    n = named_args["N"]
    weight = named_args["w_ptr"]
    limit = max(16, triton.next_power_of_2(n))
    budget = _shared_memory_budget(weight.device)
    itemsize = weight.element_size()

    def fits(c):
        kw = c.kwargs
        tile_bytes = (kw["BLOCK_N"] * kw["BLOCK_D"] + kw["BLOCK_D"] * kw["BLOCK_V"]) * itemsize
        return max(c.num_stages, 1) * tile_bytes <= budget

    kept = [c for c in configs if c.kwargs["BLOCK_N"] <= limit and fits(c)]
    if not kept:
        kept = [c for c in configs if fits(c)] or configs[-1:]
    return kept


@triton.autotune(
    configs=CONFIGS,
    key=["D", "V", "N_BUCKET"],
    prune_configs_by={"early_config_prune": _prune_configs},
    cache_results=True,  # keep the tuning on disk: a new process does not re-benchmark
)
@triton.jit
def _lm_head_partials_kernel(
    h_ptr,
    w_ptr,
    b_ptr,
    t_ptr,
    max_ptr,
    sum_ptr,
    target_ptr,
    argmax_ptr,
    N,
    D,
    V,
    N_BUCKET,  # only an autotune key: N rounded to a power of two
    SPLIT_MIN,
    SPLIT_PROGRAMS,
    stride_hn,
    stride_hd,
    stride_wv,
    stride_wd,
    softcap,
    HAS_BIAS: tl.constexpr,
    HAS_SOFTCAP: tl.constexpr,
    DOT_PRECISION: tl.constexpr,
    UPCAST: tl.constexpr,
    GROUP: tl.constexpr,
    BLOCK_N: tl.constexpr,
    BLOCK_V: tl.constexpr,
    BLOCK_D: tl.constexpr,
):
    # Number of vocabulary slices; the host computes the same in num_splits().
    row_blocks = tl.cdiv(N, BLOCK_N)
    n_tiles = tl.cdiv(V, BLOCK_V)
    SPLITS = tl.maximum(1, tl.minimum(tl.maximum(SPLIT_MIN, tl.cdiv(SPLIT_PROGRAMS, row_blocks)), n_tiles))

    # Program order: groups of GROUP row blocks x all slices, rows varying fastest.
    pid = tl.program_id(0)
    per_group = GROUP * SPLITS
    first_row_block = (pid // per_group) * GROUP
    group_rows = tl.minimum(row_blocks - first_row_block, GROUP)
    pid_n = first_row_block + (pid % per_group) % group_rows
    pid_s = (pid % per_group) // group_rows

    # This slice's range of V tiles, balanced so no slice is empty (SPLITS <= n_tiles).
    tile_lo = (pid_s * n_tiles) // SPLITS
    tile_hi = ((pid_s + 1) * n_tiles) // SPLITS

    rows = pid_n * BLOCK_N + tl.arange(0, BLOCK_N)
    row_ok = rows < N
    targets = tl.load(t_ptr + rows, mask=row_ok, other=0).to(tl.int32)
    h_rows = h_ptr + rows.to(tl.int64)[:, None] * stride_hn

    run_max = tl.full([BLOCK_N], float("-inf"), tl.float32)
    run_sum = tl.zeros([BLOCK_N], tl.float32)
    run_arg = tl.zeros([BLOCK_N], tl.int32)
    target_logit = tl.zeros([BLOCK_N], tl.float32)

    for tile in range(tile_lo, tile_hi):
        cols = tile * BLOCK_V + tl.arange(0, BLOCK_V)
        col_ok = cols < V
        w_cols = w_ptr + cols.to(tl.int64)[None, :] * stride_wv
        acc = tl.zeros([BLOCK_N, BLOCK_V], tl.float32)
        for d0 in range(0, D, BLOCK_D):
            ds = d0 + tl.arange(0, BLOCK_D)
            d_ok = ds < D
            h = tl.load(h_rows + ds[None, :] * stride_hd, mask=row_ok[:, None] & d_ok[None, :], other=0.0)
            w = tl.load(w_cols + ds[:, None] * stride_wd, mask=d_ok[:, None] & col_ok[None, :], other=0.0)
            if UPCAST:
                h = h.to(tl.float32)
                w = w.to(tl.float32)
            acc = tl.dot(h, w, acc, input_precision=DOT_PRECISION)
        z = acc
        if HAS_BIAS:
            z += tl.load(b_ptr + cols, mask=col_ok, other=0.0).to(tl.float32)[None, :]
        if HAS_SOFTCAP:
            # c * tanh(z / c), tanh written through exp(-2|x|) so nothing overflows, it
            # saturates cleanly to +-1 and needs no libdevice.
            x = z / softcap
            e = tl.exp(-2.0 * tl.abs(x))
            th = (1.0 - e) / (1.0 + e)
            z = softcap * tl.where(x < 0, -th, th)
        z = tl.where(col_ok[None, :], z, float("-inf"))

        tile_max = tl.max(z, axis=1)
        # Lowest column holding the tile maximum, written out rather than tl.argmax: the CPU
        # interpreter's argmax is always leftmost whatever tie_break_left says, so only an
        # explicit form is checked by the tests exactly as it runs on the GPU.
        tile_arg = tl.min(tl.where(z == tile_max[:, None], cols[None, :], V), axis=1)
        # Strictly greater: on a tie the earlier (lower-index) tile keeps the argmax.
        run_arg = tl.where(tile_max > run_max, tile_arg, run_arg)
        new_max = tl.maximum(run_max, tile_max)
        run_sum = run_sum * tl.exp(run_max - new_max) + tl.sum(tl.exp(z - new_max[:, None]), axis=1)
        run_max = new_max
        target_logit += tl.sum(tl.where(cols[None, :] == targets[:, None], z, 0.0), axis=1)

    out = pid_s * N + rows
    tl.store(max_ptr + out, run_max, mask=row_ok)
    tl.store(sum_ptr + out, run_sum, mask=row_ok)
    tl.store(target_ptr + out, target_logit, mask=row_ok)
    tl.store(argmax_ptr + out, run_arg, mask=row_ok)


@triton.jit
def _lm_head_combine_kernel(
    max_ptr,
    sum_ptr,
    target_ptr,
    argmax_ptr,
    t_ptr,
    logprob_ptr,
    greedy_ptr,
    N,
    SPLITS,
    SPLITS_P2: tl.constexpr,
    BLOCK: tl.constexpr,
):
    rows = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    row_ok = rows < N
    splits = tl.arange(0, SPLITS_P2)
    offs = splits[:, None] * N + rows[None, :]
    ok = (splits < SPLITS)[:, None] & row_ok[None, :]

    m = tl.load(max_ptr + offs, mask=ok, other=float("-inf"))
    top = tl.max(m, axis=0)
    # Padding rows (past N) have top = -inf; give them 0 so no NaN is computed (never stored).
    top = tl.where(row_ok, top, 0.0)
    s = tl.load(sum_ptr + offs, mask=ok, other=0.0)
    total = tl.sum(s * tl.exp(m - top[None, :]), axis=0)
    total = tl.where(row_ok, total, 1.0)
    target_logit = tl.sum(tl.load(target_ptr + offs, mask=ok, other=0.0), axis=0)

    # First slice holding the maximum, then that slice's argmax: the lowest index overall.
    first = tl.min(tl.where(m == top[None, :], splits[:, None], SPLITS_P2), axis=0)
    arg = tl.load(argmax_ptr + offs, mask=ok, other=0)
    best = tl.sum(tl.where(splits[:, None] == first[None, :], arg, 0), axis=0)

    targets = tl.load(t_ptr + rows, mask=row_ok, other=0).to(tl.int32)
    tl.store(logprob_ptr + rows, target_logit - top - tl.log(total), mask=row_ok)
    tl.store(greedy_ptr + rows, (best == targets).to(tl.uint8), mask=row_ok)


def _sm_count(device: torch.device) -> int:
    if device.type == "cuda":
        return torch.cuda.get_device_properties(device).multi_processor_count
    return INTERPRETER_SMS


def num_splits(n: int, v: int, block_n: int, block_v: int, split_min: int, split_programs: int) -> int:
    """Vocabulary slices per launch (mirrors the computation at the top of the kernel)."""
    wanted = max(split_min, triton.cdiv(split_programs, triton.cdiv(n, block_n)))
    return max(1, min(wanted, triton.cdiv(v, block_v)))


def _dot_precision(dtype: torch.dtype) -> str:
    # fp32 inputs follow torch's own matmul setting, so the kernel is as exact as the eager
    # path it replaces (full fp32 unless the user allowed TF32). Ignored for bf16/fp16.
    if dtype == torch.float32 and not torch.backends.cuda.matmul.allow_tf32:
        return "ieee"
    return "tf32"


SUPPORTED_DTYPES = (torch.float32, torch.bfloat16, torch.float16)


def lm_head_logprobs_triton(
    hidden: torch.Tensor,
    weight: torch.Tensor,
    targets: torch.Tensor,
    bias: torch.Tensor | None = None,
    softcap: float | None = None,
    *,
    splits: int | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """(logprob [N] float32, greedy [N] bool) through the fused Triton kernel.

    The matmul runs in ``weight``'s dtype (``hidden`` is cast to it when they differ, as the
    model's own LM head would) with fp32 accumulation. ``splits`` fixes the number of
    vocabulary slices instead of choosing it from the GPU size (for tests).
    """
    check_lm_head_inputs(hidden, weight, targets, bias, softcap)
    if weight.dtype not in SUPPORTED_DTYPES:
        raise ValueError(f"weight dtype must be float32, bfloat16 or float16; got {weight.dtype}")
    devices = {hidden.device, weight.device, targets.device} | ({bias.device} if bias is not None else set())
    if len(devices) != 1:
        raise ValueError(f"hidden, weight, targets and bias must be on one device; got {sorted(map(str, devices))}")
    device = weight.device
    if device.type != "cuda" and not INTERPRETED:
        raise ValueError("the Triton LM-head kernel needs CUDA tensors (or TRITON_INTERPRET=1 for CPU tensors)")
    if splits is not None and splits < 1:
        raise ValueError(f"splits must be >= 1; got {splits}")

    n, d = hidden.shape
    v = weight.shape[0]
    logprob = torch.empty(n, dtype=torch.float32, device=device)
    greedy = torch.empty(n, dtype=torch.uint8, device=device)
    if n == 0:
        return logprob, greedy.view(torch.bool)
    if hidden.dtype != weight.dtype:
        hidden = hidden.to(weight.dtype)
    targets = targets.contiguous()

    if splits is None:
        split_min, split_programs = MIN_SPLITS, PROGRAMS_PER_SM * _sm_count(device)
    else:
        split_min, split_programs = splits, 0
    # Room for the most slices any candidate config would use (configs differ in block sizes).
    capacity = max(num_splits(n, v, c.kwargs["BLOCK_N"], c.kwargs["BLOCK_V"], split_min, split_programs) for c in CONFIGS)
    part_max = torch.empty((capacity, n), dtype=torch.float32, device=device)
    part_sum = torch.empty_like(part_max)
    part_target = torch.empty_like(part_max)
    part_arg = torch.empty((capacity, n), dtype=torch.int32, device=device)

    def slices(meta) -> int:
        return num_splits(n, v, meta["BLOCK_N"], meta["BLOCK_V"], split_min, split_programs)

    def grid(meta):
        return (triton.cdiv(n, meta["BLOCK_N"]) * slices(meta),)

    _lm_head_partials_kernel[grid](
        hidden,
        weight,
        bias if bias is not None else hidden,  # never read without HAS_BIAS
        targets,
        part_max,
        part_sum,
        part_target,
        part_arg,
        n,
        d,
        v,
        triton.next_power_of_2(n),
        split_min,
        split_programs,
        hidden.stride(0),
        hidden.stride(1),
        weight.stride(0),
        weight.stride(1),
        float(softcap) if softcap is not None else 1.0,
        HAS_BIAS=bias is not None,
        HAS_SOFTCAP=softcap is not None,
        DOT_PRECISION=_dot_precision(weight.dtype),
        # The CPU interpreter's dot multiplies bf16 as raw uint16 bits; upcasting first gives the
        # same products (bf16 x bf16 is exact in fp32) and fp32 accumulation, as on the GPU.
        UPCAST=INTERPRETED and weight.dtype == torch.bfloat16,
        GROUP=GROUP_N,
    )
    # The autotuner records the config it launched with; the slice count follows from it.
    used = slices(_lm_head_partials_kernel.best_config.kwargs)

    splits_p2 = triton.next_power_of_2(used)
    block = max(1, min(128, 4096 // splits_p2))
    _lm_head_combine_kernel[(triton.cdiv(n, block),)](
        part_max,
        part_sum,
        part_target,
        part_arg,
        targets,
        logprob,
        greedy,
        n,
        used,
        SPLITS_P2=splits_p2,
        BLOCK=block,
    )
    return logprob, greedy.view(torch.bool)


def lowering_report(
    dtype: str = "bf16",
    config: tuple[int, int, int, int, int] = (128, 128, 64, 8, 3),
    arch: int = 90,
    with_bias_and_softcap: bool = True,
) -> dict:
    """Compile both kernels for an NVIDIA architecture without a GPU and describe the result.

    ``config`` is (BLOCK_N, BLOCK_V, BLOCK_D, num_warps, num_stages). The partials kernel is
    specialized as it is for real inputs (unit inner strides; pointers, d, V and row strides
    multiples of 16). Returns the shared memory in bytes, whether the d loop uses Hopper
    tensor cores (wgmma) and asynchronous, software-pipelined loads, and the kernels' PTX size.
    Needs the real compiler, so it refuses to run under TRITON_INTERPRET=1.
    """
    if INTERPRETED:
        raise RuntimeError("lowering_report compiles for a GPU; run it without TRITON_INTERPRET=1")
    from triton.backends.compiler import GPUTarget
    from triton.compiler import ASTSource

    block_n, block_v, block_d, warps, stages = config
    pointers = ["h_ptr", "w_ptr", "b_ptr", "t_ptr", "max_ptr", "sum_ptr", "target_ptr", "argmax_ptr"]
    types = {
        **dict.fromkeys(["h_ptr", "w_ptr", "b_ptr"], f"*{dtype}"),
        **dict.fromkeys(["max_ptr", "sum_ptr", "target_ptr"], "*fp32"),
        "t_ptr": "*i64",
        "argmax_ptr": "*i32",
        "softcap": "fp32",
    }
    constexprs = {
        "stride_hd": 1,
        "stride_wd": 1,
        "HAS_BIAS": with_bias_and_softcap,
        "HAS_SOFTCAP": with_bias_and_softcap,
        "DOT_PRECISION": "ieee" if dtype == "fp32" else "tf32",
        "UPCAST": False,
        "GROUP": GROUP_N,
        "BLOCK_N": block_n,
        "BLOCK_V": block_v,
        "BLOCK_D": block_d,
    }
    target = GPUTarget("cuda", arch, 32)

    def build(fn, types, constexprs, divisible, options):
        names = list(fn.arg_names)
        signature = {name: "constexpr" if name in constexprs else types.get(name, "i32") for name in names}
        attrs = {(names.index(name),): [["tt.divisibility", 16]] for name in divisible}
        return triton.compile(ASTSource(fn, signature, constexprs, attrs), target=target, options=options)

    partials = build(
        _lm_head_partials_kernel.fn,
        types,
        constexprs,
        pointers + ["D", "V", "stride_hn", "stride_wv"],
        {"num_warps": warps, "num_stages": stages},
    )
    combine = build(
        _lm_head_combine_kernel,
        {
            **dict.fromkeys(["max_ptr", "sum_ptr", "target_ptr", "logprob_ptr"], "*fp32"),
            "argmax_ptr": "*i32",
            "t_ptr": "*i64",
            "greedy_ptr": "*u8",
        },
        {"SPLITS_P2": 8, "BLOCK": 128},
        [],
        {"num_warps": 4},
    )
    ttgir = partials.asm["ttgir"]
    return {
        "arch": arch,
        "dtype": dtype,
        "config": list(config),
        "shared_bytes": partials.metadata.shared,
        "wgmma": "warp_group_dot" in ttgir,
        "pipelined_loads": "async_copy_global_to_local" in ttgir,
        "partials_ptx_chars": len(partials.asm["ptx"]),
        "combine_ptx_chars": len(combine.asm["ptx"]),
    }
