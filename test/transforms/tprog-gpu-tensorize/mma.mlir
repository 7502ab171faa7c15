// RUN: strata-opt %s --split-input-file --tprog-gpu-tensorize=chip=sm_80 | FileCheck %s

// A 256x100x72 f16 matmul: 128x128 block tiles (2 x 1 blocks), 8 warps on threadIdx.y (2 x 4,
// 64x32 each), K in tiles of 32 carried by 16 accumulator fragments, two stages of padded shared
// tiles filled by all 256 threads: A by 16-byte cp_async copies (rows of 72 are whole vectors),
// B element by element under a guard (rows of 100 are not). Tile 0 is fetched before the K
// loop; each iteration fetches tile ko + 1, waits for tile ko, synchronizes, computes: per
// 16-deep slice 4 ldmatrix.x4 for A, 4 ldmatrix.x2.trans for B and 16 mma.sync. The fragments
// are stored into C, rounded.
// CHECK-LABEL: func.func private @matmul
// CHECK-SAME: (%[[A:.*]]: memref<256x72xf16>, %[[B:.*]]: memref<72x100xf16>, %[[C:.*]]: memref<256x100xf16>)
// CHECK-NOT: tprog.block
// CHECK: scf.for %[[BY:.*]] = %{{.*}} to %{{.*}} step %{{.*}} {
// CHECK:   scf.for %[[BX:.*]] = %{{.*}} to %{{.*}} step %{{.*}} {
// CHECK:     %[[AS:.*]] = memref.alloc() : memref<2x128x40xf16, #gpu.address_space<workgroup>>
// CHECK:     %[[BS:.*]] = memref.alloc() : memref<2x32x136xf16, #gpu.address_space<workgroup>>
// CHECK:     scf.for %[[W:.*]] = %{{.*}} to %{{.*}} step %{{.*}} {
// CHECK:       %[[A0:.*]] = memref.subview %[[AS]][0, 0, 0] [1, 128, 40] [1, 1, 1]
// CHECK:       scf.for
// CHECK:         scf.for
// CHECK:           scf.for
// CHECK:             %[[DST:.*]] = memref.subview %[[A0]][%{{.*}}, %{{.*}}] [1, 8] [1, 1] : memref<128x40xf16, strided<[40, 1]>, #gpu.address_space<workgroup>> to memref<8xf16, strided<[1], offset: ?>, #gpu.address_space<workgroup>>
// CHECK:             "hwprim.cp_async"(%[[DST]], %[[A]], %{{.*}}, %{{.*}}) : (memref<8xf16, strided<[1], offset: ?>, #gpu.address_space<workgroup>>, memref<256x72xf16>, index, index) -> ()
// CHECK:           } {tprog.loop = "matmul_fa_fr"}
// CHECK:         } {tprog.kind = "threadIdx.x", tprog.loop = "matmul_fa_fx"}
// CHECK:       } {tprog.kind = "threadIdx.y", tprog.loop = "matmul_fa_fy"}
// CHECK:               memref.load %[[B]][{{.*}}] : memref<72x100xf16>
// CHECK:             memref.store
// CHECK:       } {tprog.kind = "threadIdx.y", tprog.loop = "matmul_fb_fy"}
// CHECK-NEXT:  "hwprim.cp_async_commit"() : () -> ()
// CHECK:       %[[ACC:.*]]:16 = scf.for %[[KO:.*]] = %{{.*}} to %{{.*}} step %{{.*}} iter_args({{.*}}) -> (vector<4xf32>, {{.*}}) {
// CHECK:         "hwprim.cp_async"
// CHECK:         } {tprog.kind = "threadIdx.y", tprog.loop = "matmul_fb_fy_1"}
// CHECK-NEXT:    "hwprim.cp_async_commit"() : () -> ()
// CHECK-NEXT:    "hwprim.cp_async_wait"() {pending = 1 : i64} : () -> ()
// CHECK-NEXT:    gpu.barrier
// CHECK-COUNT-4: "hwprim.ldmatrix"(%{{.*}}) {trans = false} : (memref<16x16xf16, strided<[40, 1], offset: ?>, #gpu.address_space<workgroup>>) -> vector<8xf16>
// CHECK-COUNT-4: "hwprim.ldmatrix"(%{{.*}}) {trans = true} : (memref<16x8xf16, strided<[136, 1], offset: ?>, #gpu.address_space<workgroup>>) -> vector<4xf16>
// CHECK-COUNT-16: "hwprim.mma_sync"
// CHECK-COUNT-4: "hwprim.ldmatrix"
// CHECK-COUNT-4: "hwprim.ldmatrix"
// CHECK-COUNT-16: "hwprim.mma_sync"
// CHECK-NEXT:    gpu.barrier
// CHECK-NEXT:    scf.yield
// CHECK:       } {tprog.loop = "matmul_ko"}
// CHECK:       "hwprim.frag_store"(%[[ACC]]#0, %[[C]], %{{.*}}, %{{.*}}) : (vector<4xf32>, memref<256x100xf16>, index, index) -> ()
// CHECK-COUNT-15: "hwprim.frag_store"
// CHECK:     } {tprog.kind = "threadIdx.y", tprog.loop = "matmul_warp"}
// CHECK:   } {tprog.kind = "blockIdx.x", tprog.loop = "matmul_bn"}
// CHECK: } {tprog.kind = "blockIdx.y", tprog.loop = "matmul_bm"}
func.func private @matmul(%arg0: memref<256x72xf16>, %arg1: memref<72x100xf16>, %arg2: memref<256x100xf16>) attributes {tprog.prim_func} {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c72 = arith.constant 72 : index
  %c100 = arith.constant 100 : index
  %c256 = arith.constant 256 : index
  scf.for %i = %c0 to %c256 step %c1 {
    scf.for %j = %c0 to %c100 step %c1 {
      scf.for %k = %c0 to %c72 step %c1 {
        "tprog.block"(%i, %j, %k) ({
        ^bb0(%vi: index, %vj: index, %vk: index):
          %cst = arith.constant 0.000000e+00 : f16
          memref.store %cst, %arg2[%vi, %vj] : memref<256x100xf16>
          omp.terminator
        }, {
        ^bb0(%vi: index, %vj: index, %vk: index):
          %0 = memref.load %arg0[%vi, %vk] : memref<256x72xf16>
          %1 = memref.load %arg1[%vk, %vj] : memref<72x100xf16>
          %2 = memref.load %arg2[%vi, %vj] : memref<256x100xf16>
          %3 = arith.mulf %0, %1 : f16
          %4 = arith.addf %2, %3 : f16
          memref.store %4, %arg2[%vi, %vj] : memref<256x100xf16>
          omp.terminator
        }) {dom = array<i64: 256, 100, 72>, iter_types = ["spatial", "spatial", "reduction"], name = "matmul"} : (index, index, index) -> ()
      } {tprog.loop = "k"}
    } {tprog.loop = "j"}
  } {tprog.loop = "i"}
  return
}

// -----

// Batched bf16 with a broadcast lhs (A[0, i, k] for every batch): the batch is blockIdx.z; a
// 64x64 output takes 64x64 block tiles (4 warps); the lhs reads batch index 0.
// CHECK-LABEL: func.func private @batched
// CHECK-SAME: (%[[A:.*]]: memref<1x64x32xbf16>, %[[B:.*]]: memref<3x32x64xbf16>, %[[C:.*]]: memref<3x64x64xbf16>)
// CHECK: scf.for %[[BZ:.*]] = {{.*}} {
// CHECK:   scf.for
// CHECK:     scf.for
// CHECK:       %[[B0:.*]] = arith.remui %[[BZ]], %{{.*}} : index
// CHECK:       memref.alloc() : memref<2x64x40xbf16, #gpu.address_space<workgroup>>
// CHECK:       memref.alloc() : memref<2x32x72xbf16, #gpu.address_space<workgroup>>
// CHECK:       "hwprim.cp_async"(%{{.*}}, %[[A]], %{{.*}}, %{{.*}}, %{{.*}}) : (memref<8xbf16, strided<[1], offset: ?>, #gpu.address_space<workgroup>>, memref<1x64x32xbf16>, index, index, index) -> ()
// CHECK:       "hwprim.cp_async"(%{{.*}}, %[[B]], %[[B0]], %{{.*}}, %{{.*}}) : (memref<8xbf16, strided<[1], offset: ?>, #gpu.address_space<workgroup>>, memref<3x32x64xbf16>, index, index, index) -> ()
// CHECK:       "hwprim.mma_sync"(%{{.*}}, %{{.*}}, %{{.*}}) : (vector<8xbf16>, vector<4xbf16>, vector<4xf32>) -> vector<4xf32>
// CHECK:       "hwprim.frag_store"(%{{.*}}, %[[C]], %[[B0]], %{{.*}}, %{{.*}}) : (vector<4xf32>, memref<3x64x64xbf16>, index, index, index) -> ()
// CHECK:     } {tprog.kind = "threadIdx.y", tprog.loop = "bmm_warp"}
// CHECK: } {tprog.kind = "blockIdx.z", tprog.loop = "bmm_b"}
func.func private @batched(%arg0: memref<1x64x32xbf16>, %arg1: memref<3x32x64xbf16>, %arg2: memref<3x64x64xbf16>) attributes {tprog.prim_func} {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c3 = arith.constant 3 : index
  %c32 = arith.constant 32 : index
  %c64 = arith.constant 64 : index
  scf.for %b = %c0 to %c3 step %c1 {
    scf.for %i = %c0 to %c64 step %c1 {
      scf.for %j = %c0 to %c64 step %c1 {
        scf.for %k = %c0 to %c32 step %c1 {
          "tprog.block"(%b, %i, %j, %k) ({
          ^bb0(%vb: index, %vi: index, %vj: index, %vk: index):
            %cst = arith.constant 0.000000e+00 : bf16
            memref.store %cst, %arg2[%vb, %vi, %vj] : memref<3x64x64xbf16>
            omp.terminator
          }, {
          ^bb0(%vb: index, %vi: index, %vj: index, %vk: index):
            %z = arith.constant 0 : index
            %0 = memref.load %arg0[%z, %vi, %vk] : memref<1x64x32xbf16>
            %1 = memref.load %arg1[%vb, %vk, %vj] : memref<3x32x64xbf16>
            %2 = memref.load %arg2[%vb, %vi, %vj] : memref<3x64x64xbf16>
            %3 = arith.mulf %0, %1 : bf16
            %4 = arith.addf %2, %3 : bf16
            memref.store %4, %arg2[%vb, %vi, %vj] : memref<3x64x64xbf16>
            omp.terminator
          }) {dom = array<i64: 3, 64, 64, 32>, iter_types = ["spatial", "spatial", "spatial", "reduction"], name = "bmm"} : (index, index, index, index) -> ()
        } {tprog.loop = "k"}
      } {tprog.loop = "j"}
    } {tprog.loop = "i"}
  } {tprog.loop = "b0"}
  return
}
