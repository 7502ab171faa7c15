// The `tprog` dialect: primitive tensor functions (MLC chapter 2, TensorIR).
//
// A tensor program is a `func.func` with the `tprog.prim_func` attribute whose
// arguments are memrefs in destination-passing style (inputs first, outputs
// last). Its loop nests are upstream `scf.for` loops named by a `tprog.loop`
// string attribute; the computation inside them is a `tprog.block`. Schedules
// rewrite the loops around blocks and never need to look inside the scalar body.
// Graph-level code calls a tensor program with `func.call` on buffers
// (`bufferization.to_buffer` of the inputs, a `memref.alloc` per output).
//
// IRDL cannot define terminators, so the regions of `tprog.block` end with
// upstream `omp.terminator`, the trait-only "end of region" terminator that
// accepts any parent. The lowering inlines the regions and drops it.
irdl.dialect @tprog {
  // One iteration of a computation (TensorIR's block).
  //   iter_values: the values of the block's iteration variables, in terms of
  //                the surrounding loops; they become the regions' arguments
  //   name:        the block's name, used by schedules (`get_block("matmul")`)
  //   iter_types:  "spatial" or "reduction" for each iteration variable
  //   dom:         the extent of each iteration variable
  // Region `init` runs when every reduction variable is 0 (only a terminator for
  // blocks without reduction); region `body` is the scalar computation, with
  // memref.load/memref.store on the buffers the block reads and writes (the
  // Python `BlockOp.reads`/`writes` list them).
  irdl.operation @block {
    %iv = irdl.is index
    irdl.operands(iter_values: variadic %iv)
    %name = irdl.base "#builtin.string"
    %types = irdl.base "#builtin.array"
    %dom = irdl.base "#builtin.dense_array"
    irdl.attributes {"name" = %name, "iter_types" = %types, "dom" = %dom}
    %init = irdl.region with size 1
    %body = irdl.region with size 1
    irdl.regions(init: %init, body: %body)
  }
}
