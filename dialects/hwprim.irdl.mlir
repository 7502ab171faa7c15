// The `hwprim` dialect: hardware primitives a tensor program is tensorized into
// (MLC chapter 6).
irdl.dialect @hwprim {
  // Register-blocked f32 FMA micro-kernel: acc[MR x NR] += lhs[MR x K] * rhs[K x NR].
  // The accumulator tile stays in vector registers for the whole K loop; each
  // step broadcasts one lhs element per row and issues MR vector FMAs against a
  // row of rhs. `vector_width` is the f32 lanes of the target's vector register
  // (16 for AVX-512, 8 for AVX2); NR must be a multiple of it. Operands are
  // memrefs (usually subviews) whose innermost dimension is contiguous.
  irdl.operation @fma_microkernel {
    %lhs = irdl.base "!builtin.memref"
    %rhs = irdl.base "!builtin.memref"
    %acc = irdl.base "!builtin.memref"
    irdl.operands(lhs: %lhs, rhs: %rhs, acc: %acc)
    %vw = irdl.base "#builtin.integer"
    irdl.attributes {"vector_width" = %vw}
  }
}
