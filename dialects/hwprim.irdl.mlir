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

  // ---- NVIDIA TensorCore primitives (warp and warpgroup level) ----------------------------------
  // These ops are executed by all lanes of a warp (32 threads; a warpgroup of 128 for wgmma)
  // together. In IR the lanes are implicit: a fragment type is what ONE lane holds (the PTX ISA's
  // per-thread fragment layouts, `strata.conversions.tensorcore_layouts`); a fragment that is the
  // same on every lane (e.g. an `arith.constant` zero accumulator) may be any value of that type.

  // ldmatrix (sm_80+): loads `tile`, 8x8 matrices of 16-bit elements (f16/bf16) in shared memory
  // (`#gpu.address_space<workgroup>`), into per-lane fragments. `tile` is a 2-D memref (usually
  // a subview) of shape [8R, 8C] with R*C = 1, 2 or 4 matrices (.x1/.x2/.x4), innermost stride 1
  // and each 8-element row 16-byte aligned; its matrices are numbered down the columns of 8x8
  // blocks (matrix q is block (q mod R, q div R)), so a 16x16 tile gives the mma A fragment and a
  // 16x8 tile (with `trans`) the B fragment. The result, vector<2*R*C x T>, holds per lane two
  // elements of each matrix q at positions 2q, 2q+1: row lane/4, columns 2*(lane%4)+{0,1}; with
  // `trans` = true (.trans) the transposed ones: rows 2*(lane%4)+{0,1}, column lane/4.
  // On f32 (the same b16 instruction; 32-bit elements for tf32) a matrix is 8 rows of 4 f32:
  // the tile is [8R, 4C], `trans` must be false (.trans would split the elements' halves), and
  // the result vector<R*C x f32> holds element (lane/4, lane%4) of each matrix: a 16x8 tile gives
  // the m16n8k8 .tf32 A fragment.
  irdl.operation @ldmatrix {
    %tile = irdl.base "!builtin.memref"
    %frag = irdl.base "!builtin.vector"
    irdl.operands(tile: %tile)
    %trans = irdl.base "#builtin.integer"
    irdl.attributes {"trans" = %trans}
    irdl.results(result: %frag)
  }

  // Loads an mma_sync A or B fragment (`operand` = "a" or "b") from `tile`, a static 2-D strided
  // memref of the operand's matrix shape (any memory space), element by element at each lane's
  // positions in the mma_sync layouts: f16/bf16 A 16x16 -> vector<8xT>, B 16x8 -> vector<4xT>;
  // f32 (tf32) A 16x8 -> vector<4xf32>, B 8x8 -> vector<2xf32>. It does what ldmatrix cannot:
  // the tf32 B fragment (lane l holds B[l%4 + {0, 4}, l/4], a column of 32-bit elements, which
  // .trans cannot gather).
  irdl.operation @frag_load {
    %tile = irdl.base "!builtin.memref"
    %frag = irdl.base "!builtin.vector"
    irdl.operands(tile: %tile)
    %operand = irdl.base "#builtin.string"
    irdl.attributes {"operand" = %operand}
    irdl.results(result: %frag)
  }

  // mma.sync.m16n8k16.row.col (sm_80+): d = a * b + c for a 16x16 A, a 16x8 B (f16 or bf16,
  // both the same) and a 16x8 f32 accumulator, as per-lane fragments: a vector<8xT> (lane l
  // holds A[g, 2t+{0,1}], A[g+8, 2t+{0,1}], A[g, 2t+8+{0,1}], A[g+8, 2t+8+{0,1}] with g = l/4,
  // t = l%4), b vector<4xT> (B[2t+{0,1}, g], B[2t+8+{0,1}, g]), c and d vector<4xf32>
  // (C[g, 2t+{0,1}], C[g+8, 2t+{0,1}]). Products are exact, sums at least f32.
  // On f32 fragments it is mma.sync.m16n8k8.row.col.f32.tf32.tf32.f32: A 16x8 as vector<4xf32>
  // (A[g + 8*(i%2), t + 4*(i/2)]), B 8x8 as vector<2xf32> (B[t + 4i, g]), the same C. The
  // operands must be TF32 values (f32 whose 13 low mantissa bits are zero, e.g. from
  // round_tf32): what the hardware does with other bits is not specified, and the simulator
  // refuses them.
  irdl.operation @mma_sync {
    %a = irdl.base "!builtin.vector"
    %b = irdl.base "!builtin.vector"
    %acc = irdl.base "!builtin.vector"
    irdl.operands(a: %a, b: %b, c: %acc)
    irdl.results(result: %acc)
  }

  // Stores a 16x8 f32 accumulator fragment (the mma_sync C/D layout, vector<4xf32>) into the
  // last two dimensions of `base` at `indices` (one per dimension of `base`: the tile's top-left
  // corner), converted to base's element type (f32, or f16 / bf16 rounded to nearest even).
  // Elements that fall outside `base` are not stored, so edge tiles need no padding.
  irdl.operation @frag_store {
    %frag = irdl.base "!builtin.vector"
    %base = irdl.base "!builtin.memref"
    %index = irdl.is index
    irdl.operands(value: %frag, base: %base, indices: variadic %index)
  }

  // cp.async.cg (sm_80+): an asynchronous copy of 16 bytes (W = 8 elements of f16 or bf16, or 4
  // of f32) from `src` (global memory) at `indices`, along its last dimension, into `dst`, a
  // contiguous memref<W x T> in shared memory (usually a subview). When the W elements are not
  // all inside `src`, `dst` is zero-filled and nothing is read. `src`'s last dimension is
  // contiguous and a multiple of W, and src[indices] is 16-byte aligned. The copy is complete
  // for the issuing thread once a cp_async_wait leaves fewer groups pending than were committed
  // after its own (cp_async_commit); a barrier then publishes it to the other threads.
  irdl.operation @cp_async {
    %dst = irdl.base "!builtin.memref"
    %src = irdl.base "!builtin.memref"
    %index = irdl.is index
    irdl.operands(dst: %dst, src: %src, indices: variadic %index)
  }

  // Commits this thread's cp_async ops issued since the previous commit as one group
  // (cp.async.commit_group).
  irdl.operation @cp_async_commit {
  }

  // Waits until at most `pending` of this thread's committed cp_async groups are still in
  // flight (cp.async.wait_group).
  irdl.operation @cp_async_wait {
    %n = irdl.base "#builtin.integer"
    irdl.attributes {"pending" = %n}
  }

  // wgmma.mma_async.m64nNk16 (sm_90a only): result = a * b + acc for a warpgroup (128 threads).
  // A (64x16) and B (16xN, N a multiple of 8 up to 256) are read from shared memory through
  // matrix descriptors, f16 or bf16 (both the same), as 8x8 "core matrices" without swizzling,
  // each core matrix 128 contiguous bytes (strides [?, ?, 8, 1]), in
  // #gpu.address_space<workgroup>: `a` is a memref<8x2x8x8xT>, K-major, a[i, j, r, c] =
  // A[8i + r, 8j + c] (8 rows of 8 consecutive k); `b` a memref<(N/8)x2x8x8xT>, MN-major
  // (wgmma's transposed B), b[i, j, r, c] = B[8j + r, 8i + c] (8 k-rows of 8 consecutive n, as
  // B's rows lie in memory). The strides of the two outer dimensions become the descriptor's
  // stride (between row / column groups) and leading (between k groups) byte offsets. The accumulator fragment, vector<(N/2) x f32>,
  // holds per thread T (warp w = T/32, lane l) D[16w + l/4 + 8*((i/2)%2), 8*(i/4) + 2*(l%4) + i%2]
  // for i < N/2. The op is asynchronous on the GPU: its result is only valid after wgmma_commit
  // and wgmma_wait; wgmma_fence must come before the first wgmma of a group.
  // On f32 it is wgmma.mma_async.m64nNk8.f32.tf32.tf32: core matrices are 8 rows of 4 f32 (128
  // bytes), `a` a memref<8x2x8x4xf32> (a[i, j, r, c] = A[8i + r, 4j + c]) and `b`, K-major too
  // (the PTX ISA allows the transposed, MN-major layout for f16/bf16 only), a
  // memref<(N/8)x2x8x4xf32> with b[i, j, r, c] = B[4j + c, 8i + r]; their elements must be TF32
  // values (round_tf32 before they are stored: wgmma reads shared memory as it is).
  irdl.operation @wgmma {
    %acc = irdl.base "!builtin.vector"
    %a = irdl.base "!builtin.memref"
    %b = irdl.base "!builtin.memref"
    irdl.operands(acc: %acc, a: %a, b: %b)
    irdl.results(result: %acc)
  }

  // Makes this thread's earlier shared-memory writes visible to wgmma (fence.proxy.async) and
  // orders register accesses before the following wgmma ops (wgmma.fence). Put it after the
  // stores that fill the tiles and before the barrier that publishes them.
  irdl.operation @wgmma_fence {
  }

  // Commits the wgmma ops issued since the previous commit as one group (wgmma.commit_group).
  irdl.operation @wgmma_commit {
  }

  // Waits until at most `pending` committed wgmma groups are still running (wgmma.wait_group);
  // the results of the others are then valid.
  irdl.operation @wgmma_wait {
    %n = irdl.base "#builtin.integer"
    irdl.attributes {"pending" = %n}
  }

  // Rounds f32 values (a scalar or a 1-D vector, e.g. a fragment) to TF32, to nearest with ties
  // away from zero (cvt.rna.tf32.f32, sm_80+): 10 mantissa bits are kept, the 13 below become 0.
  // The result is f32; mma_sync and wgmma on f32 take such values.
  irdl.operation @round_tf32 {
    %t = irdl.any
    irdl.operands(value: %t)
    irdl.results(result: %t)
  }

  // Stores a 64xN f32 wgmma accumulator fragment (vector<(N/2) x f32>, the layout above) into the
  // last two dimensions of `base` at `indices`, converted to base's element type (f32, f16 or
  // bf16, rounded to nearest even); elements outside `base` are not stored.
  irdl.operation @wgmma_store {
    %frag = irdl.base "!builtin.vector"
    %base = irdl.base "!builtin.memref"
    %index = irdl.is index
    irdl.operands(value: %frag, base: %base, indices: variadic %index)
  }
}
