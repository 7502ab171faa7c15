// RUN: strata-opt %s --split-input-file --convert-hwprim-to-nvvm=chip=sm_75 --verify-diagnostics

// mma.sync m16n8k16, ldmatrix and cp.async are refused below sm_80.
func.func @mma_on_sm75(%a: vector<8xf16>, %b: vector<4xf16>, %c: vector<4xf32>) -> vector<4xf32> {
  // expected-error@+1 {{'hwprim.mma_sync' needs sm_80 or newer (mma.sync m16n8k16, ldmatrix, cp.async), but the chip is sm_75}}
  %d = "hwprim.mma_sync"(%a, %b, %c) : (vector<8xf16>, vector<4xf16>, vector<4xf32>) -> vector<4xf32>
  return %d : vector<4xf32>
}

// -----

func.func @ldmatrix_on_sm75(%t: memref<8x8xf16, #gpu.address_space<workgroup>>) -> vector<2xf16> {
  // expected-error@+1 {{'hwprim.ldmatrix' needs sm_80 or newer (mma.sync m16n8k16, ldmatrix, cp.async), but the chip is sm_75}}
  %x = "hwprim.ldmatrix"(%t) {trans = false} : (memref<8x8xf16, #gpu.address_space<workgroup>>) -> vector<2xf16>
  return %x : vector<2xf16>
}

// -----

func.func @cp_async_on_sm75(%dst: memref<8xf16, #gpu.address_space<workgroup>>, %g: memref<16x8xf16>, %i: index) {
  // expected-error@+1 {{'hwprim.cp_async' needs sm_80 or newer (mma.sync m16n8k16, ldmatrix, cp.async), but the chip is sm_75}}
  "hwprim.cp_async"(%dst, %g, %i, %i) : (memref<8xf16, #gpu.address_space<workgroup>>, memref<16x8xf16>, index, index) -> ()
  return
}
