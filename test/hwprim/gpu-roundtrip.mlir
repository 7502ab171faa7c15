// RUN: strata-opt %s --split-input-file --verify-diagnostics | FileCheck %s
// RUN: strata-opt %s --split-input-file | strata-opt --split-input-file | FileCheck %s

// ldmatrix of a 16x16 A tile (.x4) and of a 16x8 B tile (.x2.trans) from subviews of shared
// memory, and one mma.sync accumulating into a zero fragment.
// CHECK-LABEL: func.func @mma
// CHECK-SAME: (%[[A:.*]]: memref<64x40xf16, #gpu.address_space<workgroup>>, %[[B:.*]]: memref<32x136xf16, #gpu.address_space<workgroup>>, %[[I:.*]]: index)
func.func @mma(%a: memref<64x40xf16, #gpu.address_space<workgroup>>, %b: memref<32x136xf16, #gpu.address_space<workgroup>>, %i: index) -> vector<4xf32> {
  %ta = memref.subview %a[%i, 0] [16, 16] [1, 1] : memref<64x40xf16, #gpu.address_space<workgroup>> to memref<16x16xf16, strided<[40, 1], offset: ?>, #gpu.address_space<workgroup>>
  %tb = memref.subview %b[0, %i] [16, 8] [1, 1] : memref<32x136xf16, #gpu.address_space<workgroup>> to memref<16x8xf16, strided<[136, 1], offset: ?>, #gpu.address_space<workgroup>>
  // CHECK: %[[FA:.*]] = "hwprim.ldmatrix"(%{{.*}}) {trans = false} : (memref<16x16xf16, strided<[40, 1], offset: ?>, #gpu.address_space<workgroup>>) -> vector<8xf16>
  %fa = "hwprim.ldmatrix"(%ta) {trans = false} : (memref<16x16xf16, strided<[40, 1], offset: ?>, #gpu.address_space<workgroup>>) -> vector<8xf16>
  // CHECK: %[[FB:.*]] = "hwprim.ldmatrix"(%{{.*}}) {trans = true} : (memref<16x8xf16, strided<[136, 1], offset: ?>, #gpu.address_space<workgroup>>) -> vector<4xf16>
  %fb = "hwprim.ldmatrix"(%tb) {trans = true} : (memref<16x8xf16, strided<[136, 1], offset: ?>, #gpu.address_space<workgroup>>) -> vector<4xf16>
  %zero = arith.constant dense<0.0> : vector<4xf32>
  // CHECK: "hwprim.mma_sync"(%[[FA]], %[[FB]], %{{.*}}) : (vector<8xf16>, vector<4xf16>, vector<4xf32>) -> vector<4xf32>
  %d = "hwprim.mma_sync"(%fa, %fb, %zero) : (vector<8xf16>, vector<4xf16>, vector<4xf32>) -> vector<4xf32>
  return %d : vector<4xf32>
}

// -----

// bf16 operands; a single 8x8 matrix (.x1).
// CHECK-LABEL: func.func @bf16
func.func @bf16(%t: memref<8x8xbf16, #gpu.address_space<workgroup>>, %a: vector<8xbf16>, %b: vector<4xbf16>, %c: vector<4xf32>) -> (vector<2xbf16>, vector<4xf32>) {
  // CHECK: "hwprim.ldmatrix"(%{{.*}}) {trans = false} : (memref<8x8xbf16, #gpu.address_space<workgroup>>) -> vector<2xbf16>
  %x = "hwprim.ldmatrix"(%t) {trans = false} : (memref<8x8xbf16, #gpu.address_space<workgroup>>) -> vector<2xbf16>
  // CHECK: "hwprim.mma_sync"(%{{.*}}, %{{.*}}, %{{.*}}) : (vector<8xbf16>, vector<4xbf16>, vector<4xf32>) -> vector<4xf32>
  %d = "hwprim.mma_sync"(%a, %b, %c) : (vector<8xbf16>, vector<4xbf16>, vector<4xf32>) -> vector<4xf32>
  return %x, %d : vector<2xbf16>, vector<4xf32>
}

// -----

// Fragment stores into f32 and (rounded) f16 outputs, batched: one index per dimension.
// CHECK-LABEL: func.func @frag_store
func.func @frag_store(%d: vector<4xf32>, %c: memref<20x12xf32>, %h: memref<2x20x12xf16>, %i: index, %j: index) {
  // CHECK: "hwprim.frag_store"(%{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}) : (vector<4xf32>, memref<20x12xf32>, index, index) -> ()
  "hwprim.frag_store"(%d, %c, %i, %j) : (vector<4xf32>, memref<20x12xf32>, index, index) -> ()
  // CHECK: "hwprim.frag_store"(%{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}) : (vector<4xf32>, memref<2x20x12xf16>, index, index, index) -> ()
  "hwprim.frag_store"(%d, %h, %i, %i, %j) : (vector<4xf32>, memref<2x20x12xf16>, index, index, index) -> ()
  return
}

// -----

// A warpgroup's wgmma m64n128k16 group: fence, mma from core-matrix tiles, commit, wait, store.
// CHECK-LABEL: func.func @wgmma
func.func @wgmma(%a: memref<8x4x8x8xf16, #gpu.address_space<workgroup>>, %b: memref<16x4x8x8xf16, #gpu.address_space<workgroup>>, %out: memref<64x128xf16>, %k: index) {
  %c0 = arith.constant 0 : index
  %zero = arith.constant dense<0.0> : vector<64xf32>
  // CHECK: "hwprim.wgmma_fence"() : () -> ()
  "hwprim.wgmma_fence"() : () -> ()
  %ta = memref.subview %a[0, %k, 0, 0] [8, 2, 8, 8] [1, 1, 1, 1] : memref<8x4x8x8xf16, #gpu.address_space<workgroup>> to memref<8x2x8x8xf16, strided<[256, 64, 8, 1], offset: ?>, #gpu.address_space<workgroup>>
  %tb = memref.subview %b[0, %k, 0, 0] [16, 2, 8, 8] [1, 1, 1, 1] : memref<16x4x8x8xf16, #gpu.address_space<workgroup>> to memref<16x2x8x8xf16, strided<[256, 64, 8, 1], offset: ?>, #gpu.address_space<workgroup>>
  // CHECK: %[[D:.*]] = "hwprim.wgmma"(%{{.*}}, %{{.*}}, %{{.*}}) : (vector<64xf32>, memref<8x2x8x8xf16, strided<[256, 64, 8, 1], offset: ?>, #gpu.address_space<workgroup>>, memref<16x2x8x8xf16, strided<[256, 64, 8, 1], offset: ?>, #gpu.address_space<workgroup>>) -> vector<64xf32>
  %d = "hwprim.wgmma"(%zero, %ta, %tb) : (vector<64xf32>, memref<8x2x8x8xf16, strided<[256, 64, 8, 1], offset: ?>, #gpu.address_space<workgroup>>, memref<16x2x8x8xf16, strided<[256, 64, 8, 1], offset: ?>, #gpu.address_space<workgroup>>) -> vector<64xf32>
  // CHECK: "hwprim.wgmma_commit"() : () -> ()
  "hwprim.wgmma_commit"() : () -> ()
  // CHECK: "hwprim.wgmma_wait"() {pending = 0 : i64} : () -> ()
  "hwprim.wgmma_wait"() {pending = 0 : i64} : () -> ()
  // CHECK: "hwprim.wgmma_store"(%[[D]], %{{.*}}, %{{.*}}, %{{.*}}) : (vector<64xf32>, memref<64x128xf16>, index, index) -> ()
  "hwprim.wgmma_store"(%d, %out, %c0, %c0) : (vector<64xf32>, memref<64x128xf16>, index, index) -> ()
  return
}

// -----

// A 16-byte asynchronous copy from a global matrix into a shared row, its commit and wait.
// CHECK-LABEL: func.func @cp_async
func.func @cp_async(%s: memref<2x32x40xf16, #gpu.address_space<workgroup>>, %g: memref<4x64x32xf16>, %b: index, %i: index, %k: index) {
  %dst = memref.subview %s[1, %i, %k] [1, 1, 8] [1, 1, 1] : memref<2x32x40xf16, #gpu.address_space<workgroup>> to memref<8xf16, strided<[1], offset: ?>, #gpu.address_space<workgroup>>
  // CHECK: "hwprim.cp_async"(%{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}) : (memref<8xf16, strided<[1], offset: ?>, #gpu.address_space<workgroup>>, memref<4x64x32xf16>, index, index, index) -> ()
  "hwprim.cp_async"(%dst, %g, %b, %i, %k) : (memref<8xf16, strided<[1], offset: ?>, #gpu.address_space<workgroup>>, memref<4x64x32xf16>, index, index, index) -> ()
  // CHECK: "hwprim.cp_async_commit"() : () -> ()
  "hwprim.cp_async_commit"() : () -> ()
  // CHECK: "hwprim.cp_async_wait"() {pending = 1 : i64} : () -> ()
  "hwprim.cp_async_wait"() {pending = 1 : i64} : () -> ()
  return
}
