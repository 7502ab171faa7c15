// RUN: strata-opt %s --split-input-file --convert-hwprim-to-nvvm=chip=sm_75 --verify-diagnostics

// The TF32 forms of the TensorCore ops: their verifiers (run when the file is parsed) and the
// chip check of round_tf32 (the pass, on sm_75).

// cvt.rna.tf32.f32 exists from sm_80 on.
func.func @round_on_sm75(%v: vector<4xf32>) -> vector<4xf32> {
  // expected-error@+1 {{'hwprim.round_tf32' needs sm_80 or newer (cvt.rna.tf32.f32), but the chip is sm_75}}
  %r = "hwprim.round_tf32"(%v) : (vector<4xf32>) -> vector<4xf32>
  return %r : vector<4xf32>
}

// -----

// round_tf32 rounds f32 only.
func.func @round_f16(%v: vector<4xf16>) -> vector<4xf16> {
  // expected-error@+1 {{round_tf32 rounds f32 or a 1-D vector of f32, found vector<4xf16>}}
  %r = "hwprim.round_tf32"(%v) : (vector<4xf16>) -> vector<4xf16>
  return %r : vector<4xf16>
}

// -----

// Its result has its operand's type (IRDL).
func.func @round_result(%v: vector<4xf32>) -> vector<2xf32> {
  // expected-error@+1 {{expected 'vector<4xf32>' but got 'vector<2xf32>'}}
  %r = "hwprim.round_tf32"(%v) : (vector<4xf32>) -> vector<2xf32>
  return %r : vector<2xf32>
}

// -----

// .trans moves 16-bit halves: no 32-bit use.
func.func @ldmatrix_f32_trans(%t: memref<8x8xf32, #gpu.address_space<workgroup>>) -> vector<2xf32> {
  // expected-error@+1 {{ldmatrix .trans transposes 16-bit elements: an f32 tile takes trans = false (load a transposed 32-bit fragment with hwprim.frag_load)}}
  %x = "hwprim.ldmatrix"(%t) {trans = true} : (memref<8x8xf32, #gpu.address_space<workgroup>>) -> vector<2xf32>
  return %x : vector<2xf32>
}

// -----

// An f32 matrix is 8 rows of 4 elements (16 bytes).
func.func @ldmatrix_f32_width(%t: memref<8x6xf32, #gpu.address_space<workgroup>>) -> vector<2xf32> {
  // expected-error@+1 {{ldmatrix loads 1, 2 or 4 8x4 matrices: the tile must be [8R, 4C] with R*C in (1, 2, 4), found 8x6}}
  %x = "hwprim.ldmatrix"(%t) {trans = false} : (memref<8x6xf32, #gpu.address_space<workgroup>>) -> vector<2xf32>
  return %x : vector<2xf32>
}

// -----

// One 32-bit register per matrix.
func.func @ldmatrix_f32_result(%t: memref<16x8xf32, #gpu.address_space<workgroup>>) -> vector<8xf32> {
  // expected-error@+1 {{ldmatrix of 4 matrices gives vector<4xf32> per lane, found vector<8xf32>}}
  %x = "hwprim.ldmatrix"(%t) {trans = false} : (memref<16x8xf32, #gpu.address_space<workgroup>>) -> vector<8xf32>
  return %x : vector<8xf32>
}

// -----

// Integer tiles are not TensorCore operands here.
func.func @ldmatrix_i32(%t: memref<8x8xi32, #gpu.address_space<workgroup>>) -> vector<2xi32> {
  // expected-error@+1 {{ldmatrix tile must hold f16, bf16 or f32 (tf32), found memref<8x8xi32, #gpu.address_space<workgroup>>}}
  %x = "hwprim.ldmatrix"(%t) {trans = false} : (memref<8x8xi32, #gpu.address_space<workgroup>>) -> vector<2xi32>
  return %x : vector<2xi32>
}

// -----

// frag_load loads an A or a B fragment.
func.func @frag_load_operand(%t: memref<16x8xf32>) -> vector<4xf32> {
  // expected-error@+1 {{'operand' must be "a" or "b", found "c"}}
  %x = "hwprim.frag_load"(%t) {operand = "c"} : (memref<16x8xf32>) -> vector<4xf32>
  return %x : vector<4xf32>
}

// -----

// The operand attribute is required (IRDL).
func.func @frag_load_no_operand(%t: memref<16x8xf32>) -> vector<4xf32> {
  // expected-error@+1 {{attribute "operand" is expected but not provided}}
  %x = "hwprim.frag_load"(%t) : (memref<16x8xf32>) -> vector<4xf32>
  return %x : vector<4xf32>
}

// -----

// The tf32 B operand is 8x8 (k x n), 2 elements per lane.
func.func @frag_load_b_shape(%t: memref<16x8xf32>) -> vector<4xf32> {
  // expected-error@+1 {{frag_load of operand b on f32 reads a 8x8 tile into vector<2xf32> per lane, found memref<16x8xf32> and vector<4xf32>}}
  %x = "hwprim.frag_load"(%t) {operand = "b"} : (memref<16x8xf32>) -> vector<4xf32>
  return %x : vector<4xf32>
}

// -----

// mma.sync .tf32 is m16n8k8: A 4 and B 2 f32 per lane.
func.func @mma_tf32_b(%a: vector<4xf32>, %b: vector<4xf32>, %c: vector<4xf32>) -> vector<4xf32> {
  // expected-error@+1 {{mma_sync m16n8k8 .tf32 takes a: vector<4xf32> and b: vector<2xf32> per lane, found vector<4xf32> and vector<4xf32>}}
  %d = "hwprim.mma_sync"(%a, %b, %c) : (vector<4xf32>, vector<4xf32>, vector<4xf32>) -> vector<4xf32>
  return %d : vector<4xf32>
}

// -----

// A and B have one element type.
func.func @mma_tf32_mixed(%a: vector<4xf32>, %b: vector<2xf16>, %c: vector<4xf32>) -> vector<4xf32> {
  // expected-error@+1 {{mma_sync m16n8k8 .tf32 takes a: vector<4xf32> and b: vector<2xf32> per lane, found vector<4xf32> and vector<2xf16>}}
  %d = "hwprim.mma_sync"(%a, %b, %c) : (vector<4xf32>, vector<2xf16>, vector<4xf32>) -> vector<4xf32>
  return %d : vector<4xf32>
}

// -----

// wgmma .tf32 reads B K-major: core matrices of 8 rows of 4 f32.
func.func @wgmma_tf32_b(%acc: vector<8xf32>, %a: memref<8x2x8x4xf32, #gpu.address_space<workgroup>>, %b: memref<2x2x8x8xf32, #gpu.address_space<workgroup>>) -> vector<8xf32> {
  // expected-error@+1 {{wgmma b must be (N/8)x2x8x4 K-major core matrices of 128 contiguous bytes (strides [?, ?, 4, 1]), found memref<2x2x8x8xf32, #gpu.address_space<workgroup>>}}
  %d = "hwprim.wgmma"(%acc, %a, %b) : (vector<8xf32>, memref<8x2x8x4xf32, #gpu.address_space<workgroup>>, memref<2x2x8x8xf32, #gpu.address_space<workgroup>>) -> vector<8xf32>
  return %d : vector<8xf32>
}

// -----

// The accumulator of m64nNk8 holds N/2 f32 per thread.
func.func @wgmma_tf32_acc(%acc: vector<16xf32>, %a: memref<8x2x8x4xf32, #gpu.address_space<workgroup>>, %b: memref<2x2x8x4xf32, #gpu.address_space<workgroup>>) -> vector<16xf32> {
  // expected-error@+1 {{wgmma m64n16k8 accumulates into vector<8xf32> per thread, found vector<16xf32>}}
  %d = "hwprim.wgmma"(%acc, %a, %b) : (vector<16xf32>, memref<8x2x8x4xf32, #gpu.address_space<workgroup>>, memref<2x2x8x4xf32, #gpu.address_space<workgroup>>) -> vector<16xf32>
  return %d : vector<16xf32>
}

// -----

// cp.async copies 16 bytes: 4 f32.
func.func @cp_async_f32_size(%dst: memref<8xf32, #gpu.address_space<workgroup>>, %g: memref<16x8xf32>, %i: index) {
  // expected-error@+1 {{cp_async copies 16 bytes: the destination must be memref<4xf32>, found memref<8xf32, #gpu.address_space<workgroup>>}}
  "hwprim.cp_async"(%dst, %g, %i, %i) : (memref<8xf32, #gpu.address_space<workgroup>>, memref<16x8xf32>, index, index) -> ()
  return
}

// -----

// Its source rows are whole 16-byte vectors.
func.func @cp_async_f32_rows(%dst: memref<4xf32, #gpu.address_space<workgroup>>, %g: memref<16x10xf32>, %i: index) {
  // expected-error@+1 {{cp_async reads a memref of f32 whose last dimension is contiguous and a static multiple of 4, found memref<16x10xf32>}}
  "hwprim.cp_async"(%dst, %g, %i, %i) : (memref<4xf32, #gpu.address_space<workgroup>>, memref<16x10xf32>, index, index) -> ()
  return
}
