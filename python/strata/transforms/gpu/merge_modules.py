"""gpu-merge-kernel-modules: one `gpu.module` for all kernels of a module.

`gpu-kernel-outlining` makes one `gpu.module` per launch; the CUDA target merges them into a
single module named `kernels` so a compiled model is one PTX file (and one cubin). Kernel
functions keep their names (made unique where two collide); globals the kernels read
(shared-memory buffers) are kept once; every `gpu.launch_func` is updated.
"""

from __future__ import annotations

from mlir import ir

from strata.irutil import module_body, unique_symbol, walk
from strata.passes import Pass

MERGED = "kernels"


def _name(op: ir.Operation) -> str:
    return ir.StringAttr(op.attributes["sym_name"]).value


def _append(block: ir.Block, op: ir.Operation) -> None:
    ops = block.operations
    op.move_after(ops[len(ops) - 1])


class GpuMergeKernelModulesPass(Pass):
    """Merge the gpu.modules of outlined kernels into one gpu.module named 'kernels'"""

    argument = "gpu-merge-kernel-modules"

    def run(self, module: ir.Operation) -> None:
        top = [op.operation for op in module_body(module).operations]
        gpu_modules = [op for op in top if op.name == "gpu.module"]
        if not gpu_modules:
            return
        originals = [_name(m) for m in gpu_modules]
        taken = {_name(op) for op in top if "sym_name" in op.attributes} - set(originals)
        merged = unique_symbol(MERGED, taken)
        target = gpu_modules[0]
        body = target.regions[0].blocks[0]
        inner_taken: set[str] = set()
        renames: dict[tuple[str, str], str] = {}
        seen_globals: set[str] = set()
        for source, source_name in zip(gpu_modules, originals):
            for op in [o.operation for o in source.regions[0].blocks[0].operations]:
                if "sym_name" not in op.attributes:
                    continue
                name = _name(op)
                if op.name == "memref.global":
                    if name in seen_globals:  # one buffer, copied by outlining into two modules
                        if source is not target:
                            op.erase()
                        continue
                    seen_globals.add(name)
                else:
                    new = unique_symbol(name, inner_taken)
                    renames[(source_name, name)] = new
                    if new != name:
                        op.attributes["sym_name"] = ir.StringAttr.get(new)
                if source is not target:
                    _append(body, op)
        target.attributes["sym_name"] = ir.StringAttr.get(merged)
        for op in walk(module):
            if op.name != "gpu.launch_func":
                continue
            parts = str(op.attributes["kernel"]).replace("@", "").split("::")
            renamed = renames.get((parts[0], parts[-1])) if len(parts) == 2 else None
            if renamed is not None:
                op.attributes["kernel"] = ir.SymbolRefAttr.get([merged, renamed])
        for source in gpu_modules[1:]:
            source.erase()
