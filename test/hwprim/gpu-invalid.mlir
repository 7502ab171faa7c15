// RUN: strata-opt %s --split-input-file --verify-diagnostics

// ldmatrix reads a 2-D tile.
func.func @ldmatrix_rank(%t: memref<2x8x8xf16, #gpu.address_space<workgroup>>) {
  // expected-error@+1 {{ldmatrix tile must be a static 2-D memref, found memref<2x8x8xf16, #gpu.address_space<workgroup>>}}
  %x = "hwprim.ldmatrix"(%t) {trans = false} : (memref<2x8x8xf16, #gpu.address_space<workgroup>>) -> vector<8xf16>
  return
}

// -----

// ldmatrix reads shared memory only.
func.func @ldmatrix_global(%t: memref<16x16xf16>) {
  // expected-error@+1 {{ldmatrix tile must be in shared memory (#gpu.address_space<workgroup>), found memref<16x16xf16>}}
  %x = "hwprim.ldmatrix"(%t) {trans = false} : (memref<16x16xf16>) -> vector<8xf16>
  return
}

// -----

// The rows of its matrices are contiguous.
func.func @ldmatrix_strided(%t: memref<16x16xf16, strided<[1, 16]>, #gpu.address_space<workgroup>>) {
  // expected-error@+1 {{ldmatrix tile must have a contiguous innermost dimension}}
  %x = "hwprim.ldmatrix"(%t) {trans = false} : (memref<16x16xf16, strided<[1, 16]>, #gpu.address_space<workgroup>>) -> vector<8xf16>
  return
}

// -----

// 16-bit (f16, bf16) or 32-bit f32 (tf32) elements only.
func.func @ldmatrix_i32(%t: memref<8x8xi32, #gpu.address_space<workgroup>>) {
  // expected-error@+1 {{ldmatrix tile must hold f16, bf16 or f32 (tf32), found memref<8x8xi32, #gpu.address_space<workgroup>>}}
  %x = "hwprim.ldmatrix"(%t) {trans = false} : (memref<8x8xi32, #gpu.address_space<workgroup>>) -> vector<2xi32>
  return
}

// -----

// 1, 2 or 4 matrices of 8x8: a 24x8 tile would be 3.
func.func @ldmatrix_count(%t: memref<24x8xf16, #gpu.address_space<workgroup>>) {
  // expected-error@+1 {{ldmatrix loads 1, 2 or 4 8x8 matrices: the tile must be [8R, 8C] with R*C in (1, 2, 4), found 24x8}}
  %x = "hwprim.ldmatrix"(%t) {trans = false} : (memref<24x8xf16, #gpu.address_space<workgroup>>) -> vector<6xf16>
  return
}

// -----

// trans is a bool.
func.func @ldmatrix_trans(%t: memref<8x8xf16, #gpu.address_space<workgroup>>) {
  // expected-error@+1 {{'trans' must be a bool (true or false), found 1 : i64}}
  %x = "hwprim.ldmatrix"(%t) {trans = 1 : i64} : (memref<8x8xf16, #gpu.address_space<workgroup>>) -> vector<2xf16>
  return
}

// -----

// trans is required (IRDL).
func.func @ldmatrix_no_trans(%t: memref<8x8xf16, #gpu.address_space<workgroup>>) {
  // expected-error@+1 {{attribute "trans" is expected but not provided}}
  %x = "hwprim.ldmatrix"(%t) : (memref<8x8xf16, #gpu.address_space<workgroup>>) -> vector<2xf16>
  return
}

// -----

// Four matrices give 8 elements per lane.
func.func @ldmatrix_result(%t: memref<16x16xf16, #gpu.address_space<workgroup>>) {
  // expected-error@+1 {{ldmatrix of 4 matrices gives vector<8xf16> per lane, found vector<4xf16>}}
  %x = "hwprim.ldmatrix"(%t) {trans = false} : (memref<16x16xf16, #gpu.address_space<workgroup>>) -> vector<4xf16>
  return
}

// -----

// Fragments are 1-D vectors.
func.func @ldmatrix_2d(%t: memref<16x16xf16, #gpu.address_space<workgroup>>) {
  // expected-error@+1 {{ldmatrix result must be a 1-D vector, found vector<2x4xf16>}}
  %x = "hwprim.ldmatrix"(%t) {trans = false} : (memref<16x16xf16, #gpu.address_space<workgroup>>) -> vector<2x4xf16>
  return
}

// -----

// On f32 fragments mma.sync is m16n8k8 .tf32: A is 4 f32 per lane, B 2.
func.func @mma_f32(%a: vector<8xf32>, %b: vector<4xf32>, %c: vector<4xf32>) {
  // expected-error@+1 {{mma_sync m16n8k8 .tf32 takes a: vector<4xf32> and b: vector<2xf32> per lane, found vector<8xf32> and vector<4xf32>}}
  %d = "hwprim.mma_sync"(%a, %b, %c) : (vector<8xf32>, vector<4xf32>, vector<4xf32>) -> vector<4xf32>
  return
}

// -----

// A is 8 halves per lane.
func.func @mma_a(%a: vector<4xf16>, %b: vector<4xf16>, %c: vector<4xf32>) {
  // expected-error@+1 {{mma_sync m16n8k16 takes a: vector<8xf16> and b: vector<4xf16> per lane, found vector<4xf16> and vector<4xf16>}}
  %d = "hwprim.mma_sync"(%a, %b, %c) : (vector<4xf16>, vector<4xf16>, vector<4xf32>) -> vector<4xf32>
  return
}

// -----

// A and B have one element type.
func.func @mma_mixed(%a: vector<8xf16>, %b: vector<4xbf16>, %c: vector<4xf32>) {
  // expected-error@+1 {{mma_sync m16n8k16 takes a: vector<8xf16> and b: vector<4xf16> per lane, found vector<8xf16> and vector<4xbf16>}}
  %d = "hwprim.mma_sync"(%a, %b, %c) : (vector<8xf16>, vector<4xbf16>, vector<4xf32>) -> vector<4xf32>
  return
}

// -----

// The accumulator is 4 f32 per lane.
func.func @mma_acc(%a: vector<8xf16>, %b: vector<4xf16>, %c: vector<4xf16>) {
  // expected-error@+1 {{mma_sync accumulates into vector<4xf32> per lane, found vector<4xf16>}}
  %d = "hwprim.mma_sync"(%a, %b, %c) : (vector<8xf16>, vector<4xf16>, vector<4xf16>) -> vector<4xf16>
  return
}

// -----

// The result has the accumulator's type (IRDL).
func.func @mma_result(%a: vector<8xf16>, %b: vector<4xf16>, %c: vector<4xf32>) {
  // expected-error@+1 {{expected 'vector<4xf32>' but got 'vector<8xf32>'}}
  %d = "hwprim.mma_sync"(%a, %b, %c) : (vector<8xf16>, vector<4xf16>, vector<4xf32>) -> vector<8xf32>
  return
}

// -----

// Fragment stores write a matrix of f32, f16 or bf16.
func.func @frag_store_i32(%d: vector<4xf32>, %c: memref<16x8xi32>, %i: index) {
  // expected-error@+1 {{hwprim.frag_store stores into a memref of rank >= 2 of f32, f16 or bf16, found memref<16x8xi32>}}
  "hwprim.frag_store"(%d, %c, %i, %i) : (vector<4xf32>, memref<16x8xi32>, index, index) -> ()
  return
}

// -----

// One index per dimension of the destination.
func.func @frag_store_indices(%d: vector<4xf32>, %c: memref<2x16x8xf32>, %i: index) {
  // expected-error@+1 {{hwprim.frag_store takes 3 indices for memref<2x16x8xf32>, found 2}}
  "hwprim.frag_store"(%d, %c, %i, %i) : (vector<4xf32>, memref<2x16x8xf32>, index, index) -> ()
  return
}

// -----

// The value is an mma accumulator fragment.
func.func @frag_store_value(%d: vector<8xf32>, %c: memref<16x8xf32>, %i: index) {
  // expected-error@+1 {{hwprim.frag_store takes an f32 accumulator vector<4xf32>, found vector<8xf32>}}
  "hwprim.frag_store"(%d, %c, %i, %i) : (vector<8xf32>, memref<16x8xf32>, index, index) -> ()
  return
}

// -----

// wgmma's tiles are 4-D core-matrix arrays.
func.func @wgmma_rank(%acc: vector<4xf32>, %a: memref<64x16xf16, #gpu.address_space<workgroup>>, %b: memref<1x2x8x8xf16, #gpu.address_space<workgroup>>) {
  // expected-error@+1 {{wgmma a must be a static 4-D memref, found memref<64x16xf16, #gpu.address_space<workgroup>>}}
  %d = "hwprim.wgmma"(%acc, %a, %b) : (vector<4xf32>, memref<64x16xf16, #gpu.address_space<workgroup>>, memref<1x2x8x8xf16, #gpu.address_space<workgroup>>) -> vector<4xf32>
  return
}

// -----

// wgmma reads shared memory through descriptors.
func.func @wgmma_global(%acc: vector<4xf32>, %a: memref<8x2x8x8xf16, #gpu.address_space<workgroup>>, %b: memref<1x2x8x8xf16>) {
  // expected-error@+1 {{wgmma b must be in shared memory (#gpu.address_space<workgroup>), found memref<1x2x8x8xf16>}}
  %d = "hwprim.wgmma"(%acc, %a, %b) : (vector<4xf32>, memref<8x2x8x8xf16, #gpu.address_space<workgroup>>, memref<1x2x8x8xf16>) -> vector<4xf32>
  return
}

// -----

// A and B have one element type.
func.func @wgmma_mixed(%acc: vector<4xf32>, %a: memref<8x2x8x8xf16, #gpu.address_space<workgroup>>, %b: memref<1x2x8x8xbf16, #gpu.address_space<workgroup>>) {
  // expected-error@+1 {{wgmma a and b differ in element type}}
  %d = "hwprim.wgmma"(%acc, %a, %b) : (vector<4xf32>, memref<8x2x8x8xf16, #gpu.address_space<workgroup>>, memref<1x2x8x8xbf16, #gpu.address_space<workgroup>>) -> vector<4xf32>
  return
}

// -----

// A is 64x16: 8 row groups of 2 k groups.
func.func @wgmma_a_shape(%acc: vector<4xf32>, %a: memref<8x4x8x8xf16, #gpu.address_space<workgroup>>, %b: memref<1x2x8x8xf16, #gpu.address_space<workgroup>>) {
  // expected-error@+1 {{wgmma a must be 8x2x8x8 K-major core matrices of 128 contiguous bytes (strides [?, ?, 8, 1]), found memref<8x4x8x8xf16, #gpu.address_space<workgroup>>}}
  %d = "hwprim.wgmma"(%acc, %a, %b) : (vector<4xf32>, memref<8x4x8x8xf16, #gpu.address_space<workgroup>>, memref<1x2x8x8xf16, #gpu.address_space<workgroup>>) -> vector<4xf32>
  return
}

// -----

// A core matrix is 128 contiguous bytes.
func.func @wgmma_b_strides(%acc: vector<4xf32>, %a: memref<8x2x8x8xf16, #gpu.address_space<workgroup>>, %b: memref<1x2x8x8xf16, strided<[512, 256, 16, 1]>, #gpu.address_space<workgroup>>) {
  // expected-error@+1 {{wgmma b must be (N/8)x2x8x8 MN-major core matrices of 128 contiguous bytes (strides [?, ?, 8, 1])}}
  %d = "hwprim.wgmma"(%acc, %a, %b) : (vector<4xf32>, memref<8x2x8x8xf16, #gpu.address_space<workgroup>>, memref<1x2x8x8xf16, strided<[512, 256, 16, 1]>, #gpu.address_space<workgroup>>) -> vector<4xf32>
  return
}

// -----

// N is at most 256.
func.func @wgmma_n(%acc: vector<160xf32>, %a: memref<8x2x8x8xf16, #gpu.address_space<workgroup>>, %b: memref<40x2x8x8xf16, #gpu.address_space<workgroup>>) {
  // expected-error@+1 {{wgmma N must be 8 to 256, found 320}}
  %d = "hwprim.wgmma"(%acc, %a, %b) : (vector<160xf32>, memref<8x2x8x8xf16, #gpu.address_space<workgroup>>, memref<40x2x8x8xf16, #gpu.address_space<workgroup>>) -> vector<160xf32>
  return
}

// -----

// The accumulator holds N/2 f32 per thread.
func.func @wgmma_acc(%acc: vector<8xf32>, %a: memref<8x2x8x8xf16, #gpu.address_space<workgroup>>, %b: memref<1x2x8x8xf16, #gpu.address_space<workgroup>>) {
  // expected-error@+1 {{wgmma m64n8k16 accumulates into vector<4xf32> per thread, found vector<8xf32>}}
  %d = "hwprim.wgmma"(%acc, %a, %b) : (vector<8xf32>, memref<8x2x8x8xf16, #gpu.address_space<workgroup>>, memref<1x2x8x8xf16, #gpu.address_space<workgroup>>) -> vector<8xf32>
  return
}

// -----

// wgmma_wait counts groups.
func.func @wgmma_wait_negative() {
  // expected-error@+1 {{'pending' must be a non-negative integer, found -1 : i64}}
  "hwprim.wgmma_wait"() {pending = -1 : i64} : () -> ()
  return
}

// -----

// The warpgroup accumulator of a 64xN tile holds N/2 f32, N a multiple of 8.
func.func @wgmma_store_value(%d: vector<6xf32>, %c: memref<64x12xf32>, %i: index) {
  // expected-error@+1 {{hwprim.wgmma_store takes an f32 accumulator vector<(N/2)xf32> with N in 8, 16, ..., 256, found vector<6xf32>}}
  "hwprim.wgmma_store"(%d, %c, %i, %i) : (vector<6xf32>, memref<64x12xf32>, index, index) -> ()
  return
}

// -----

// cp_async copies 16 bytes.
func.func @cp_async_size(%dst: memref<4xf16, #gpu.address_space<workgroup>>, %g: memref<64x32xf16>, %i: index) {
  // expected-error@+1 {{cp_async copies 16 bytes: the destination must be memref<8xf16>, found memref<4xf16, #gpu.address_space<workgroup>>}}
  "hwprim.cp_async"(%dst, %g, %i, %i) : (memref<4xf16, #gpu.address_space<workgroup>>, memref<64x32xf16>, index, index) -> ()
  return
}

// -----

// into shared memory.
func.func @cp_async_global(%dst: memref<8xf16>, %g: memref<64x32xf16>, %i: index) {
  // expected-error@+1 {{cp_async destination must be in shared memory (#gpu.address_space<workgroup>), found memref<8xf16>}}
  "hwprim.cp_async"(%dst, %g, %i, %i) : (memref<8xf16>, memref<64x32xf16>, index, index) -> ()
  return
}

// -----

// Rows of the source are whole 16-byte vectors (8 elements in or out, never split).
func.func @cp_async_rows(%dst: memref<8xf16, #gpu.address_space<workgroup>>, %g: memref<64x36xf16>, %i: index) {
  // expected-error@+1 {{cp_async reads a memref of f16 whose last dimension is contiguous and a static multiple of 8, found memref<64x36xf16>}}
  "hwprim.cp_async"(%dst, %g, %i, %i) : (memref<8xf16, #gpu.address_space<workgroup>>, memref<64x36xf16>, index, index) -> ()
  return
}

// -----

// Source and destination hold the same element type.
func.func @cp_async_types(%dst: memref<8xbf16, #gpu.address_space<workgroup>>, %g: memref<64x32xf16>, %i: index) {
  // expected-error@+1 {{cp_async reads a memref of bf16 whose last dimension is contiguous and a static multiple of 8, found memref<64x32xf16>}}
  "hwprim.cp_async"(%dst, %g, %i, %i) : (memref<8xbf16, #gpu.address_space<workgroup>>, memref<64x32xf16>, index, index) -> ()
  return
}

// -----

// One index per dimension of the source.
func.func @cp_async_indices(%dst: memref<8xf16, #gpu.address_space<workgroup>>, %g: memref<2x64x32xf16>, %i: index) {
  // expected-error@+1 {{cp_async takes 3 indices for memref<2x64x32xf16>, found 2}}
  "hwprim.cp_async"(%dst, %g, %i, %i) : (memref<8xf16, #gpu.address_space<workgroup>>, memref<2x64x32xf16>, index, index) -> ()
  return
}

// -----

// cp_async_wait counts groups.
func.func @cp_async_wait_negative() {
  // expected-error@+1 {{'pending' must be a non-negative integer, found -2 : i64}}
  "hwprim.cp_async_wait"() {pending = -2 : i64} : () -> ()
  return
}

// -----

// Tiles have a strided layout (an address per element row).
func.func @ldmatrix_layout(%t: memref<16x16xf16, affine_map<(d0, d1) -> (d1, d0)>, #gpu.address_space<workgroup>>) {
  // expected-error@+1 {{ldmatrix tile must have a strided layout}}
  %x = "hwprim.ldmatrix"(%t) {trans = false} : (memref<16x16xf16, affine_map<(d0, d1) -> (d1, d0)>, #gpu.address_space<workgroup>>) -> vector<8xf16>
  return
}
