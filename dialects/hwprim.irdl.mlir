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

  // Register-blocked int8 dot-product micro-kernel (AVX-512 VNNI `vpdpbusd`):
  //   acc[i, j] += sum_k zext(lhs[i, k]) * sext(rhs[k / 4, 4 * j + k % 4])
  // lhs holds unsigned bytes (MR x K, K a multiple of 4); rhs is packed in VNNI layout
  // (K/4 x NR*4: the 4 consecutive k of one column are adjacent); acc is MR x NR i32, NR a
  // multiple of `vector_width` (i32 lanes: 16 for AVX-512). Each step broadcasts 4 bytes of lhs
  // per row and issues one vpdpbusd per accumulator vector. A signed lhs is shifted by 128
  // (and the product corrected by 128 * column sums of rhs) by the tensorized program.
  irdl.operation @dot_i8_microkernel {
    %lhs = irdl.base "!builtin.memref"
    %rhs = irdl.base "!builtin.memref"
    %acc = irdl.base "!builtin.memref"
    irdl.operands(lhs: %lhs, rhs: %rhs, acc: %acc)
    %vw = irdl.base "#builtin.integer"
    irdl.attributes {"vector_width" = %vw}
  }

  // The vector instruction of dot_i8_microkernel: result = acc + per 32-bit lane, the sum of
  // the 4 products zext(lhs byte) * sext(rhs byte) (vpdpbusd: acc vector<N x i32>, operands
  // vector<4N x i8>; N = 16 on AVX-512 VNNI, 8 with AVX-VNNI / AVX512VL).
  irdl.operation @dot_i8 {
    %acc = irdl.base "!builtin.vector"
    %bytes = irdl.base "!builtin.vector"
    irdl.operands(acc: %acc, lhs: %bytes, rhs: %bytes)
    irdl.results(result: %acc)
  }

  // The register-level instructions the micro-kernels expand into (`hwprim-expand-microkernels`),
  // each one x86 instruction on a vector register of the target's width.
  // A vector load of `result`'s lanes from `base` at `indices` (innermost dimension contiguous).
  irdl.operation @vload {
    %base = irdl.base "!builtin.memref"
    %index = irdl.is index
    %vec = irdl.base "!builtin.vector"
    irdl.operands(base: %base, indices: variadic %index)
    irdl.results(result: %vec)
  }

  // A vector store of `value` into `base` at `indices`.
  irdl.operation @vstore {
    %vec = irdl.base "!builtin.vector"
    %base = irdl.base "!builtin.memref"
    %index = irdl.is index
    irdl.operands(value: %vec, base: %base, indices: variadic %index)
  }

  // A scalar broadcast to every lane (vbroadcastss / vpbroadcastd).
  irdl.operation @vbroadcast {
    %scalar = irdl.any
    %vec = irdl.base "!builtin.vector"
    irdl.operands(value: %scalar)
    irdl.results(result: %vec)
  }

  // result = lhs * rhs + acc per lane, rounded once (vfmadd231ps).
  irdl.operation @vfma {
    %vec = irdl.base "!builtin.vector"
    irdl.operands(lhs: %vec, rhs: %vec, acc: %vec)
    irdl.results(result: %vec)
  }
}
