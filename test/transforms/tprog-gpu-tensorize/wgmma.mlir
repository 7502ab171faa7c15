// RUN: strata-opt %s --split-input-file --tprog-gpu-tensorize=chip=sm_90a | FileCheck %s

// On sm_90a: 2 warpgroups (threadIdx.y) of 64 rows x 128 columns, K tiles of 32 in two stages
// of shared memory, stored as core matrices (A K-major: A[r, k] at [r/8, k/8, r%8, k%8]; B
// MN-major: B[k, n] at [n/8, k/8, k%8, n%8]), both by 16-byte vectors. Tile 0 is fetched
// before the K loop; each iteration issues the wgmma group on stage ko % 2, commits it,
// fetches tile ko + 1 into the other stage while it runs, waits, fences, and synchronizes.
// CHECK-LABEL: func.func private @matmul
// CHECK-SAME: (%[[A:.*]]: memref<256x64xf16>, %[[B:.*]]: memref<64x256xf16>, %[[C:.*]]: memref<256x256xf16>)
// CHECK: %[[AS:.*]] = memref.alloc() : memref<2x16x4x8x8xf16, #gpu.address_space<workgroup>>
// CHECK: %[[BS:.*]] = memref.alloc() : memref<2x16x4x8x8xf16, #gpu.address_space<workgroup>>
// CHECK: scf.for %[[G:.*]] = %{{.*}} to %{{.*}} step %{{.*}} {
// CHECK:   %[[A0:.*]] = memref.subview %[[AS]][0, 0, 0, 0, 0] [1, 16, 4, 8, 8] [1, 1, 1, 1, 1] : memref<2x16x4x8x8xf16, #gpu.address_space<workgroup>> to memref<16x4x8x8xf16, strided<[256, 64, 8, 1]>, #gpu.address_space<workgroup>>
// CHECK:   vector.load %[[A]]
// CHECK:   vector.store %{{.*}}, %[[A0]][{{.*}}] {alignment = 16 : i64} : memref<16x4x8x8xf16, strided<[256, 64, 8, 1]>, #gpu.address_space<workgroup>>, vector<8xf16>
// CHECK:   } {tprog.kind = "threadIdx.y", tprog.loop = "matmul_fa_fy"}
// CHECK:   vector.load %[[B]]
// CHECK:   vector.store
// CHECK:   } {tprog.kind = "threadIdx.y", tprog.loop = "matmul_fb_fy"}
// CHECK-NEXT: "hwprim.wgmma_fence"() : () -> ()
// CHECK-NEXT: gpu.barrier
// CHECK:   %[[ZERO:.*]] = arith.constant dense<0.000000e+00> : vector<64xf32>
// CHECK:   %[[ACC:.*]] = scf.for %[[KO:.*]] = %{{.*}} to %{{.*}} step %{{.*}} iter_args(%[[X:.*]] = %[[ZERO]]) -> (vector<64xf32>) {
// CHECK:     %[[S:.*]] = arith.remui %[[KO]], %{{.*}} : index
// CHECK:     memref.subview %[[AS]][%[[S]], 0, 0, 0, 0] [1, 16, 4, 8, 8] [1, 1, 1, 1, 1] : memref<2x16x4x8x8xf16, #gpu.address_space<workgroup>> to memref<16x4x8x8xf16, strided<[256, 64, 8, 1], offset: ?>, #gpu.address_space<workgroup>>
// CHECK:     "hwprim.wgmma_fence"() : () -> ()
// CHECK:     %[[D0:.*]] = "hwprim.wgmma"(%[[X]], %{{.*}}, %{{.*}}) : (vector<64xf32>, memref<8x2x8x8xf16, strided<[256, 64, 8, 1], offset: ?>, #gpu.address_space<workgroup>>, memref<16x2x8x8xf16, strided<[256, 64, 8, 1], offset: ?>, #gpu.address_space<workgroup>>) -> vector<64xf32>
// CHECK:     %[[D1:.*]] = "hwprim.wgmma"(%[[D0]], %{{.*}}, %{{.*}})
// CHECK-NEXT: "hwprim.wgmma_commit"() : () -> ()
// CHECK:     %[[NEXT:.*]] = arith.addi %[[KO]], %{{.*}} : index
// CHECK:     vector.store
// CHECK:     } {tprog.kind = "threadIdx.y", tprog.loop = "matmul_fa_fy_1"}
// CHECK:     } {tprog.kind = "threadIdx.y", tprog.loop = "matmul_fb_fy_1"}
// CHECK-NEXT: "hwprim.wgmma_wait"() {pending = 0 : i64} : () -> ()
// CHECK-NEXT: "hwprim.wgmma_fence"() : () -> ()
// CHECK-NEXT: gpu.barrier
// CHECK-NEXT: scf.yield %[[D1]] : vector<64xf32>
// CHECK:   } {tprog.loop = "matmul_ko"}
// CHECK:   "hwprim.wgmma_store"(%[[ACC]], %[[C]], %{{.*}}, %{{.*}}) : (vector<64xf32>, memref<256x256xf16>, index, index) -> ()
// CHECK: } {tprog.kind = "threadIdx.y", tprog.loop = "matmul_warpgroup"}
func.func private @matmul(%arg0: memref<256x64xf16>, %arg1: memref<64x256xf16>, %arg2: memref<256x256xf16>) attributes {tprog.prim_func} {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c64 = arith.constant 64 : index
  %c256 = arith.constant 256 : index
  scf.for %i = %c0 to %c256 step %c1 {
    scf.for %j = %c0 to %c256 step %c1 {
      scf.for %k = %c0 to %c64 step %c1 {
        "tprog.block"(%i, %j, %k) ({
        ^bb0(%vi: index, %vj: index, %vk: index):
          %cst = arith.constant 0.000000e+00 : f16
          memref.store %cst, %arg2[%vi, %vj] : memref<256x256xf16>
          omp.terminator
        }, {
        ^bb0(%vi: index, %vj: index, %vk: index):
          %0 = memref.load %arg0[%vi, %vk] : memref<256x64xf16>
          %1 = memref.load %arg1[%vk, %vj] : memref<64x256xf16>
          %2 = memref.load %arg2[%vi, %vj] : memref<256x256xf16>
          %3 = arith.mulf %0, %1 : f16
          %4 = arith.addf %2, %3 : f16
          memref.store %4, %arg2[%vi, %vj] : memref<256x256xf16>
          omp.terminator
        }) {dom = array<i64: 256, 256, 64>, iter_types = ["spatial", "spatial", "reduction"], name = "matmul"} : (index, index, index) -> ()
      } {tprog.loop = "k"}
    } {tprog.loop = "j"}
  } {tprog.loop = "i"}
  return
}
