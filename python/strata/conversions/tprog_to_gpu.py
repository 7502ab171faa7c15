"""convert-tprog-to-gpu: bound loop nests of tensor programs -> `gpu.launch`.

Input: prim funcs after `convert-tprog-to-scf` whose top-level loop nests carry GPU bindings
(`tprog.kind` = `blockIdx.*` / `threadIdx.*`; `tprog-gpu-schedule` binds every nest). Each nest
becomes one `gpu.launch`:

- the `blockIdx` loops perfectly nested at the top of the nest give the grid, one axis each;
- every loop bound to `threadIdx.a` anywhere inside means "this thread's iteration": `blockDim.a`
  is the largest such extent, and a loop with a smaller one runs under `if tid.a < extent`;
  kernels holding warp-level TensorCore ops have `blockDim.x` = 32 (the lane; 128 for a
  warpgroup's wgmma);
- shared buffers (`memref.alloc` in `#gpu.address_space<workgroup>`, wherever they sit in the
  kernel) become one module-level `memref.global` each, read with `memref.get_global` at the top
  of the kernel (one per thread block; NVPTX turns it into a `.shared` variable).

Everything outside the nests (global temporaries, views, constants) stays host code: the CUDA
target turns it into the artifact's launch manifest. A nest without a binding cannot run on the
host and is refused.
"""

from __future__ import annotations

from mlir import ir
from mlir.dialects import arith, gpu, memref, scf

from strata.conversions.hwprim_to_nvvm import WARP_OPS, WARPGROUP_OPS
from strata.diagnostics import CompileError
from strata.dialects.tprog import LOOP_NAME, PRIM_FUNC
from strata.irutil import erase, functions, module_body, symbol_names, unique_symbol, walk
from strata.passes import Pass
from strata.transforms.tprog import nest
from strata.transforms.tprog.gpu_registers import drop_thread_dims

AXES = ("x", "y", "z")
MAX_THREADS = 1024
MAX_BLOCK = {"x": 1024, "y": 1024, "z": 64}
MAX_GRID = {"x": 2**31 - 1, "y": 65535, "z": 65535}
# Ops allowed between the blockIdx loops at the top of a kernel (moved into the kernel).
_PURE = {"arith.constant", "affine.apply"}
WORKGROUP = "#gpu.address_space<workgroup>"


def binding(op: ir.Operation) -> tuple[str, str] | None:
    """('blockIdx' | 'threadIdx', axis) for a bound loop, else None."""
    if op.name != "scf.for" or nest.LOOP_KIND not in op.attributes:
        return None
    kind = nest.loop_kind(op)
    scope, _, axis = kind.partition(".")
    if scope in ("blockIdx", "threadIdx") and axis in AXES:
        return scope, axis
    return None


def _name(loop: ir.Operation) -> str:
    return nest.loop_name(loop) if LOOP_NAME in loop.attributes else "<unnamed>"


def _extent(loop: ir.Operation) -> int:
    try:
        return nest.loop_extent(loop)
    except nest.ScheduleError as e:
        raise CompileError(str(e), loop.location) from None


def is_workgroup(t: ir.Type) -> bool:
    return (
        isinstance(t, ir.MemRefType)
        and t.memory_space is not None
        and ("workgroup" in str(t.memory_space))
    )


def _block_chain(top: ir.Operation) -> tuple[list[ir.Operation], list[ir.Operation]]:
    """The blockIdx loops at the top of the nest (outermost first) and the pure ops between
    them."""
    chain, between = [top], []
    while True:
        body = nest.body_ops(chain[-1])
        inner = [op for op in body if (b := binding(op)) and b[0] == "blockIdx"]
        rest = [op for op in body if op not in inner]
        if len(inner) == 1 and all(op.name in _PURE for op in rest):
            between += rest
            chain.append(inner[0])
            continue
        return chain, between


class _Kernel:
    """What one bound nest needs for its launch: grid, block and the warp structure."""

    def __init__(self, top: ir.Operation, fn_name: str):
        self.top = top
        self.chain, self.between = _block_chain(top)
        where = f"in tensor program '{fn_name}'"
        self.grid = {a: 1 for a in AXES}
        for loop in self.chain:
            axis = binding(loop)[1]  # type: ignore[index]
            if self.grid[axis] != 1 or any(
                binding(o) == ("blockIdx", axis) for o in self.chain[: self.chain.index(loop)]
            ):
                raise CompileError(
                    f"loop '{_name(loop)}' {where} binds blockIdx.{axis} a second time in one "
                    "kernel",
                    loop.location,
                )
            self.grid[axis] = _extent(loop)
            if self.grid[axis] > MAX_GRID[axis]:
                raise CompileError(
                    f"loop '{_name(loop)}' {where}: grid dimension {axis} of "
                    f"{self.grid[axis]} blocks is over the limit of {MAX_GRID[axis]}",
                    loop.location,
                )
        self.block = {a: 0 for a in AXES}
        self.thread_loops: list[ir.Operation] = []
        lanes = 0
        for op in walk(self.chain[-1]):
            if op == self.chain[-1].operation:
                continue
            b = binding(op)
            if b is not None and b[0] == "blockIdx":
                raise CompileError(
                    f"loop '{_name(op)}' {where} is bound to blockIdx.{b[1]} but is not among the "
                    "blockIdx loops perfectly nested at the top of its kernel",
                    op.location,
                )
            if b is not None:
                if len(op.results):
                    raise CompileError(
                        f"loop '{_name(op)}' {where} carries values and cannot be bound to "
                        f"threadIdx.{b[1]}",
                        op.location,
                    )
                self.thread_loops.append(op)
                self.block[b[1]] = max(self.block[b[1]], _extent(op))
            elif op.name in ("scf.forall", "scf.parallel"):
                raise CompileError(
                    f"'{op.name}' {where} cannot run inside a GPU kernel: bind its loop to "
                    "threads instead of making it parallel",
                    op.location,
                )
            elif op.name in WARP_OPS or op.name in WARPGROUP_OPS:
                need = 32 if op.name in WARP_OPS else 128
                if lanes and lanes != need:
                    raise CompileError(
                        f"'{op.name}' {where} needs {need} lanes along threadIdx.x, but the "
                        f"kernel also holds ops that need {lanes}",
                        op.location,
                    )
                lanes = need
        if lanes:
            if self.block["x"] > lanes:
                raise CompileError(
                    f"the kernel of loop '{_name(top)}' {where} holds warp-level ops, whose "
                    f"lanes are threadIdx.x (blockDim.x = {lanes}), but a loop binds "
                    f"threadIdx.x with extent {self.block['x']}",
                    top.location,
                )
            self.block["x"] = lanes
        self.block = {a: max(n, 1) for a, n in self.block.items()}
        for axis in AXES:
            if self.block[axis] > MAX_BLOCK[axis]:
                raise CompileError(
                    f"the kernel of loop '{_name(top)}' {where} has blockDim.{axis} = "
                    f"{self.block[axis]}, over the limit of {MAX_BLOCK[axis]}",
                    top.location,
                )
        threads = self.block["x"] * self.block["y"] * self.block["z"]
        if threads > MAX_THREADS:
            raise CompileError(
                f"the kernel of loop '{_name(top)}' {where} has {threads} threads per block "
                f"({self.block['x']}x{self.block['y']}x{self.block['z']}), over the limit of "
                f"{MAX_THREADS}",
                top.location,
            )


def _launch(kernel: _Kernel, module: ir.Operation, taken: set[str]) -> None:
    top = kernel.top
    with ir.InsertionPoint(top), top.location:
        index = ir.IndexType.get()

        def const(v: int) -> ir.Value:
            return arith.ConstantOp(index, v).result

        launch = gpu.LaunchOp(
            tuple(const(kernel.grid[a]) for a in AXES), tuple(const(kernel.block[a]) for a in AXES)
        )
    body = launch.regions[0].blocks[0]
    with ir.InsertionPoint(body), top.location:
        terminator = gpu.TerminatorOp()
    with ir.InsertionPoint(terminator), top.location:
        dims = {getattr(gpu.Dimension, a): a for a in AXES}
        block_id = {a: gpu.block_id(d) for d, a in dims.items() if kernel.grid[a] > 1}
        thread_id = {a: gpu.thread_id(d) for d, a in dims.items() if kernel.block[a] > 1}
    zero = None
    for op in kernel.between:
        op.move_before(terminator)
    for loop in kernel.chain:
        axis = binding(loop)[1]  # type: ignore[index]
        if axis in block_id:
            value = block_id[axis]
        else:
            if zero is None:
                with ir.InsertionPoint(terminator), top.location:
                    zero = arith.ConstantOp(ir.IndexType.get(), 0).result
            value = zero
        loop.regions[0].blocks[0].arguments[0].replace_all_uses_with(value)
    inner = kernel.chain[-1]
    for op in nest.body_ops(inner):
        if op not in kernel.chain:
            op.move_before(terminator)
    for loop in kernel.thread_loops:
        _unloop(loop, kernel, thread_id)
    # Register buffers the sequential reading gave one slice per thread: each thread keeps its own.
    drop_thread_dims(launch.operation)
    _hoist_shared(launch.operation, module, taken)
    erase(top)


def _unloop(loop: ir.Operation, kernel: _Kernel, thread_id: dict[str, ir.Value]) -> None:
    """A threadIdx-bound loop -> its body for iteration tid (guarded when shorter)."""
    axis = binding(loop)[1]  # type: ignore[index]
    extent = _extent(loop)
    with ir.InsertionPoint(loop), loop.location:
        if axis in thread_id:
            tid = thread_id[axis]
        else:
            tid = arith.ConstantOp(ir.IndexType.get(), 0).result
        anchor = loop
        if extent < kernel.block[axis]:
            bound = arith.ConstantOp(ir.IndexType.get(), extent).result
            cond = arith.CmpIOp(arith.CmpIPredicate.ult, tid, bound).result
            guard = scf.IfOp(cond)
            with ir.InsertionPoint(guard.then_block):
                anchor = scf.YieldOp([]).operation
    loop.regions[0].blocks[0].arguments[0].replace_all_uses_with(tid)
    for op in nest.body_ops(loop):
        op.move_before(anchor)
    erase(loop)


def _hoist_shared(launch: ir.Operation, module: ir.Operation, taken: set[str]) -> None:
    allocs = [
        op for op in walk(launch) if op.name == "memref.alloc" and is_workgroup(op.results[0].type)
    ]
    first = launch.regions[0].blocks[0].operations[0]
    for alloc in allocs:
        t = ir.MemRefType(alloc.results[0].type)
        if not t.has_static_shape:
            raise CompileError("a shared-memory buffer must have a static shape", alloc.location)
        name = unique_symbol("__shared", taken)
        with ir.InsertionPoint.at_block_begin(module_body(module)), alloc.location:
            memref.GlobalOp(
                sym_name=name,
                type_=ir.TypeAttr.get(t),
                sym_visibility="private",
                alignment=ir.IntegerAttr.get(ir.IntegerType.get_signless(64), 16),
            )
        with ir.InsertionPoint(first), alloc.location:
            value = memref.GetGlobalOp(t, name).result
        alloc.results[0].replace_all_uses_with(value)
        erase(alloc)


def convert_function(fn: ir.Operation, module: ir.Operation, taken: set[str]) -> None:
    fn_name = ir.StringAttr(fn.attributes["sym_name"]).value
    for op in list(fn.regions[0].blocks[0].operations):
        op = op.operation
        if op.name == "memref.alloc" and is_workgroup(op.results[0].type):
            raise CompileError(
                f"shared-memory buffer in tensor program '{fn_name}' outside any kernel: it must "
                "sit inside the loops bound to blockIdx",
                op.location,
            )
        if op.name != "scf.for":
            continue
        b = binding(op)
        if b is None or b[0] != "blockIdx":
            what = f"is bound to {b[0]}.{b[1]}" if b else "has no GPU binding"
            raise CompileError(
                f"loop nest '{_name(op)}' of tensor program '{fn_name}' {what}: on the cuda "
                "target every loop nest must start with loops bound to blockIdx "
                "(tprog-gpu-schedule binds them; Schedule.bind does it by hand)",
                op.location,
            )
        _launch(_Kernel(op, fn_name), module, taken)


class ConvertTprogToGpuPass(Pass):
    """Turn bound loop nests of tensor programs into gpu.launch kernels"""

    argument = "convert-tprog-to-gpu"

    def run(self, module: ir.Operation) -> None:
        taken = symbol_names(module)
        for fn in functions(module):
            if PRIM_FUNC in fn.attributes and fn.regions[0].blocks:
                convert_function(fn, module, taken)
