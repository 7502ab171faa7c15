// RUN: strata-opt %s --split-input-file --convert-hwprim-to-nvvm=chip=sm_90a | FileCheck %s

// The warpgroup MMA: the accumulator fragment is packed into an LLVM struct, the two tiles
// become no-swizzle matrix descriptors (start address, leading byte offset = stride between
// the two k groups, stride byte offset = stride between row / column groups, each >> 4 in 14
// bits), A K-major (row), B MN-major (row: transposed), and the result struct is unpacked.
// CHECK-LABEL: func.func @wgmma
// CHECK: %[[UNDEF:.*]] = llvm.mlir.undef : !llvm.struct<(f32, f32, f32, f32, f32, f32, f32, f32)>
// CHECK: llvm.insertvalue %{{.*}}, %[[UNDEF]][0]
// CHECK: %[[ACC:.*]] = llvm.insertvalue %{{.*}}[7]
// CHECK: memref.extract_strided_metadata %{{.*}} : memref<8x2x8x8xf16, strided<[256, 64, 8, 1], offset: ?>, #gpu.address_space<workgroup>>
// CHECK: memref.extract_aligned_pointer_as_index
// CHECK: %[[MASK:.*]] = arith.constant 16383 : i64
// CHECK: %[[C16:.*]] = arith.constant 16 : i64
// CHECK: arith.shli %{{.*}}, %[[C16]] : i64
// CHECK: %[[C32:.*]] = arith.constant 32 : i64
// CHECK: arith.shli %{{.*}}, %[[C32]] : i64
// CHECK: arith.ori
// CHECK-NEXT: %[[DA:.*]] = arith.ori
// CHECK: memref.extract_strided_metadata %{{.*}} : memref<2x2x8x8xf16, strided<[256, 64, 8, 1], offset: ?>, #gpu.address_space<workgroup>>
// CHECK: arith.ori
// CHECK-NEXT: %[[DB:.*]] = arith.ori
// CHECK: %[[D:.*]] = nvvm.wgmma.mma_async %[[DA]], %[[DB]], %[[ACC]], <m = 64, n = 16, k = 16>, D[<f32>, <one>], A[<f16>, <one>, <row>], B[<f16>, <one>, <row>] : !llvm.struct<(f32, f32, f32, f32, f32, f32, f32, f32)> -> !llvm.struct<(f32, f32, f32, f32, f32, f32, f32, f32)>
// CHECK-COUNT-8: llvm.extractvalue %[[D]]
// CHECK: vector.from_elements {{.*}} : vector<8xf32>
func.func @wgmma(%acc: vector<8xf32>, %a: memref<8x2x8x8xf16, strided<[256, 64, 8, 1], offset: ?>, #gpu.address_space<workgroup>>, %b: memref<2x2x8x8xf16, strided<[256, 64, 8, 1], offset: ?>, #gpu.address_space<workgroup>>) -> vector<8xf32> {
  %d = "hwprim.wgmma"(%acc, %a, %b) : (vector<8xf32>, memref<8x2x8x8xf16, strided<[256, 64, 8, 1], offset: ?>, #gpu.address_space<workgroup>>, memref<2x2x8x8xf16, strided<[256, 64, 8, 1], offset: ?>, #gpu.address_space<workgroup>>) -> vector<8xf32>
  return %d : vector<8xf32>
}

// -----

// The fence makes the thread's shared-memory writes visible to the async proxy, then orders
// wgmma; commit and wait map one to one.
// CHECK-LABEL: func.func @sync
// CHECK: nvvm.fence.proxy {kind = #nvvm.proxy_kind<async.shared>, space = #nvvm.shared_space<cta>}
// CHECK-NEXT: nvvm.wgmma.fence.aligned
// CHECK-NEXT: nvvm.wgmma.commit.group.sync.aligned
// CHECK-NEXT: nvvm.wgmma.wait.group.sync.aligned 1
func.func @sync() {
  "hwprim.wgmma_fence"() : () -> ()
  "hwprim.wgmma_commit"() : () -> ()
  "hwprim.wgmma_wait"() {pending = 1 : i64} : () -> ()
  return
}

// -----

// The warpgroup accumulator store: thread T of the warpgroup (threadIdx.x mod 128) writes
// element i at row 16*(T/32) + (T%32)/4 + 8*((i/2)%2), column 8*(i/4) + 2*(T%4) + i%2.
// CHECK-LABEL: func.func @wgmma_store
// CHECK: %[[TID:.*]] = gpu.thread_id  x
// CHECK: %[[T:.*]] = arith.remui %[[TID]], %{{.*}} : index
// CHECK: %[[WARP:.*]] = arith.divui %[[T]], %{{.*}} : index
// CHECK-COUNT-8: scf.if
// CHECK-NOT: hwprim
func.func @wgmma_store(%d: vector<8xf32>, %c: memref<64x16xf32>, %i: index) {
  "hwprim.wgmma_store"(%d, %c, %i, %i) : (vector<8xf32>, memref<64x16xf32>, index, index) -> ()
  return
}
