"""tprog-gpu-tensorize: f16/bf16 (and, with `tf32`, f32) matmul blocks -> TensorCore kernels.

Input: tensor programs as `convert-graph-to-tprog` emits them. A block C[b.., i, j] += A[b.., i, k]
* B[b.., k, j] with C = 0 as init (the matmul blocks `convert-tprog-to-hwprim` recognizes, batch
dimensions broadcast or not) on f16 or bf16 is replaced by one kernel nest (see
`gpu_tensorize_kernels`): blockIdx over output tiles and batches, warps on threadIdx.y,
shared-memory tiles filled by cooperative fetch loops, f32 accumulators carried as fragments;
ldmatrix + mma.sync on sm_80 ... sm_90, wgmma on sm_90a. With `tf32=true` (what
torch.backends.cuda.matmul.allow_tf32 allows) f32 blocks are tensorized too: their operands are
rounded to TF32 (10 mantissa bits, cvt.rna) and accumulated in f32 (mma.sync m16n8k8 .tf32,
wgmma m64nNk8 .tf32). Other blocks are left as they are (`tprog-gpu-schedule` binds them).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from mlir import ir

from strata.conversions import tprog_to_hwprim as cpu
from strata.conversions.hwprim_to_nvvm_support import Chip
from strata.conversions.tprog_builder import uniquify_loop_names
from strata.dialects.tprog import PRIM_FUNC
from strata.irutil import functions, walk
from strata.passes import Pass
from strata.transforms.tprog import gpu_tensorize_kernels as kernels

ELEMENTS = (("f16", "f16", "f16"), ("bf16", "bf16", "bf16"))
TF32_ELEMENTS = (("f32", "f32", "f32"),)  # with the tf32 option
MAX_GRID_YZ = 65535


@dataclass(frozen=True)
class Options:
    chip: str = field(default="sm_80", metadata={"help": "target GPU: sm_80 ... sm_90, sm_90a"})
    tf32: bool = field(
        default=False,
        metadata={"help": "tensorize f32 matmuls too, with operands rounded to TF32"},
    )

    def __post_init__(self) -> None:
        Chip.parse(self.chip, "tprog-gpu-tensorize")  # a PipelineError naming the bad value


def match_tensorcore_matmul(op: ir.Operation, *, tf32: bool = False) -> cpu.MatmulMatch | str:
    """The matmul block `op` on f16 or bf16 (and f32 when `tf32`), or why it is not one. The
    structure is the one `convert-tprog-to-hwprim` matches (its helpers read the loads, batch
    maps and loops)."""
    block = op.opview
    iterators = cpu.matmul_iterators(block)
    if isinstance(iterators, str):
        return iterators
    vb, vi, vj, vk = iterators
    nb = len(vb)
    body = [o for o in cpu._ops(block.body) if not _is_index_zero(o)]
    shape = "its body is not a load-multiply-add-store C[i, j] += A[i, k] * B[k, j]"
    if len(body) != 6 or body[-1].name != "memref.store":
        return shape
    store = body[-1]
    out = store.operands[1]
    add = cpu._defining(store.operands[0])
    if list(store.operands)[2:] != [*vb, vi, vj] or add is None or add.name != "arith.addf":
        return shape
    for acc, prod in (tuple(add.operands), tuple(add.operands)[::-1]):
        mul = cpu._defining(prod)
        if cpu._load(acc) != (out, [*vb, vi, vj]) or mul is None or mul.name != "arith.mulf":
            continue
        for x, y in (tuple(mul.operands), tuple(mul.operands)[::-1]):
            a, b = cpu._load(x), cpu._load(y)
            if a is None or b is None or a[1][-2:] != [vi, vk] or b[1][-2:] != [vk, vj]:
                continue
            lhs_batch, rhs_batch = cpu._batch_map(a[1][:-2], vb), cpu._batch_map(b[1][:-2], vb)
            if lhs_batch is None or rhs_batch is None:
                continue
            init = [o for o in cpu._ops(block.init) if not _is_index_zero(o)]
            stores_zero = len(init) == 2 and init[1].name == "memref.store"
            zero = cpu._defining(init[1].operands[0]) if stores_zero else None
            if (
                not stores_zero
                or list(init[1].operands)[1:] != [out, *list(block.init.arguments)[: nb + 2]]
                or zero is None
                or zero.name != "arith.constant"
                or cpu._constant_value(zero) != 0
            ):
                return "its init does not store C[i, j] = 0"
            elements = tuple(str(v.type.element_type) for v in (a[0], b[0], out))
            if elements not in ELEMENTS + (TF32_ELEMENTS if tf32 else ()):
                found = f"its operands are {' x '.join(elements[:2])} into {elements[2]}"
                return found + (" (f32 needs the tf32 option)" if elements in TF32_ELEMENTS else "")
            loops = cpu._enclosing_loops(op, block.iter_values)
            if loops is None:
                return "it is not directly under its own loops, one per iteration value"
            return cpu.MatmulMatch(block, a[0], b[0], out, loops, lhs_batch, rhs_batch)
    return f"{shape} (operands are not A[.., i, k] and B[.., k, j])"


def _is_index_zero(op: ir.Operation) -> bool:
    return op.name == "arith.constant" and cpu._is_zero_index(op.results[0])


def kernel_config(match: cpu.MatmulMatch, chip: Chip) -> kernels.Config | None:
    """The tile sizes for this matmul on `chip`, or None when its grid does not fit."""
    if not all(ir.MemRefType(v.type).has_static_shape for v in (match.lhs, match.rhs, match.out)):
        return None
    *batch, m, n = match.out.type.shape
    bits = 32 if str(match.lhs.type.element_type) == "f32" else 16
    config = kernels.Config.for_shape(
        m, n, match.lhs.type.shape[-1], wgmma=chip.has_wgmma, bits=bits
    )
    if math.prod(batch) > MAX_GRID_YZ or -(-m // config.bm) > MAX_GRID_YZ:
        return None
    return config


class TprogGpuTensorizePass(Pass):
    """Rewrite f16/bf16 (with tf32: f32) matmul blocks into TensorCore kernels (mma.sync, or
    wgmma on sm_90a)"""

    argument = "tprog-gpu-tensorize"
    Options = Options

    def run(self, module: ir.Operation) -> None:
        chip = Chip.parse(self.options.chip, self.argument)
        if not chip.has_mma_sync:
            return  # no TensorCore instruction Strata emits: leave the blocks to the schedule
        for fn in functions(module):
            if PRIM_FUNC not in fn.attributes:
                continue
            rewritten = False
            for op in [op for op in walk(fn) if op.name == "tprog.block"]:
                match = match_tensorcore_matmul(op, tf32=self.options.tf32)
                if isinstance(match, str):
                    continue
                config = kernel_config(match, chip)
                if config is None:
                    continue
                kernels.emit_kernel(fn, match, config)
                rewritten = True
            if rewritten:
                uniquify_loop_names(fn)
