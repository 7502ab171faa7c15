// RUN: strata-opt %s --split-input-file --tprog-gpu-tensorize="chip=sm_80 tf32=true" | FileCheck %s --check-prefix=MMA
// RUN: strata-opt %s --split-input-file --tprog-gpu-tensorize="chip=sm_90a tf32=true" | FileCheck %s --check-prefix=WGMMA
// RUN: strata-opt %s --split-input-file --tprog-gpu-tensorize=chip=sm_90a | FileCheck %s --check-prefix=OFF

// Without the tf32 option an f32 matmul is left to tprog-gpu-schedule.
// OFF-LABEL: func.func private @matmul
// OFF: "tprog.block"
// OFF-NOT: hwprim

// A 256x98x72 f32 matmul with tf32=true, sm_80: the f16 kernel's 128x128 block tiles and 8 warps,
// K tiles of 16 f32 (64 bytes, as 32 halves), shared rows padded by 16 bytes (A) and 32 bytes
// (B); A by 16-byte cp_async copies of 4 f32, B (rows of 98: not whole vectors) element by
// element. Per 8-deep slice: 4 ldmatrix.x4 of 16x8 A tiles and 4 frag_load of 8x8 B tiles, each
// rounded to TF32, then 16 mma_sync m16n8k8 .tf32; 2 slices per K tile.
// MMA-LABEL: func.func private @matmul
// MMA-SAME: (%[[A:.*]]: memref<256x72xf32>, %[[B:.*]]: memref<72x98xf32>, %[[C:.*]]: memref<256x98xf32>)
// MMA-NOT: tprog.block
// MMA: memref.alloc() : memref<2x128x20xf32, #gpu.address_space<workgroup>>
// MMA: memref.alloc() : memref<2x16x136xf32, #gpu.address_space<workgroup>>
// MMA: "hwprim.cp_async"(%{{.*}}, %[[A]], %{{.*}}, %{{.*}}) : (memref<4xf32, strided<[1], offset: ?>, #gpu.address_space<workgroup>>, memref<256x72xf32>, index, index) -> ()
// MMA: } {tprog.kind = "threadIdx.y", tprog.loop = "matmul_fa_fy"}
// MMA: memref.load %[[B]][{{.*}}] : memref<72x98xf32>
// MMA: } {tprog.kind = "threadIdx.y", tprog.loop = "matmul_fb_fy"}
// MMA-NEXT: "hwprim.cp_async_commit"() : () -> ()
// MMA: scf.for {{.*}} -> (vector<4xf32>, {{.*}}) {
// MMA: "hwprim.cp_async_wait"() {pending = 1 : i64} : () -> ()
// MMA-NEXT: gpu.barrier
// MMA: %[[FA:.*]] = "hwprim.ldmatrix"(%{{.*}}) {trans = false} : (memref<16x8xf32, strided<[20, 1], offset: ?>, #gpu.address_space<workgroup>>) -> vector<4xf32>
// MMA-NEXT: %[[RA:.*]] = "hwprim.round_tf32"(%[[FA]]) : (vector<4xf32>) -> vector<4xf32>
// MMA-COUNT-3: "hwprim.round_tf32"
// MMA: %[[FB:.*]] = "hwprim.frag_load"(%{{.*}}) {operand = "b"} : (memref<8x8xf32, strided<[136, 1], offset: ?>, #gpu.address_space<workgroup>>) -> vector<2xf32>
// MMA-NEXT: %[[RB:.*]] = "hwprim.round_tf32"(%[[FB]]) : (vector<2xf32>) -> vector<2xf32>
// MMA-COUNT-3: "hwprim.frag_load"
// MMA: "hwprim.mma_sync"(%[[RA]], %[[RB]], %{{.*}}) : (vector<4xf32>, vector<2xf32>, vector<4xf32>) -> vector<4xf32>
// MMA-COUNT-15: "hwprim.mma_sync"
// MMA-COUNT-4: "hwprim.ldmatrix"
// MMA-COUNT-4: "hwprim.frag_load"
// MMA-COUNT-16: "hwprim.mma_sync"
// MMA-NEXT: gpu.barrier
// MMA: } {tprog.loop = "matmul_ko"}
// MMA: "hwprim.frag_store"(%{{.*}}, %[[C]], %{{.*}}, %{{.*}}) : (vector<4xf32>, memref<256x98xf32>, index, index) -> ()

// sm_90a: two warpgroups of 64x128 (one m64n128 accumulator), K tiles of 16 f32 as core matrices
// of 8 rows of 4 f32, A and B both K-major (tf32 has no transposed B). A is fetched by 16-byte
// vector loads along K; B by columns (4 consecutive k of one n, element loads: a column of B
// is not contiguous), stored as one core-matrix row; both rounded to TF32 before the store, as
// wgmma reads shared memory. Two wgmma m64n128k8 per K tile.
// WGMMA-LABEL: func.func private @matmul
// WGMMA-SAME: (%[[A:.*]]: memref<256x72xf32>, %[[B:.*]]: memref<72x98xf32>, %[[C:.*]]: memref<256x98xf32>)
// WGMMA: %[[AS:.*]] = memref.alloc() : memref<2x16x4x8x4xf32, #gpu.address_space<workgroup>>
// WGMMA: %[[BS:.*]] = memref.alloc() : memref<2x16x4x8x4xf32, #gpu.address_space<workgroup>>
// WGMMA: %[[A0:.*]] = memref.subview %[[AS]][0, 0, 0, 0, 0] [1, 16, 4, 8, 4]
// WGMMA: %[[B0:.*]] = memref.subview %[[BS]][0, 0, 0, 0, 0] [1, 16, 4, 8, 4]
// WGMMA: %[[VA:.*]] = vector.load %[[A]][%{{.*}}, %{{.*}}] {alignment = 16 : i64} : memref<256x72xf32>, vector<4xf32>
// WGMMA: %[[RA:.*]] = "hwprim.round_tf32"(%{{.*}}) : (vector<4xf32>) -> vector<4xf32>
// WGMMA: vector.store %[[RA]], %[[A0]][%{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}] {alignment = 16 : i64} : memref<16x4x8x4xf32, strided<[128, 32, 4, 1]>, #gpu.address_space<workgroup>>, vector<4xf32>
// WGMMA: } {tprog.kind = "threadIdx.y", tprog.loop = "matmul_fa_fy"}
// WGMMA-COUNT-4: memref.load %[[B]][%{{.*}}, %{{.*}}] : memref<72x98xf32>
// WGMMA: %[[COL:.*]] = vector.from_elements %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} : vector<4xf32>
// WGMMA: %[[RB:.*]] = "hwprim.round_tf32"(%[[COL]]) : (vector<4xf32>) -> vector<4xf32>
// WGMMA: vector.store %[[RB]], %[[B0]][%{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}] {alignment = 16 : i64} : memref<16x4x8x4xf32, strided<[128, 32, 4, 1]>, #gpu.address_space<workgroup>>, vector<4xf32>
// WGMMA: } {tprog.kind = "threadIdx.y", tprog.loop = "matmul_fb_fy"}
// WGMMA-NEXT: "hwprim.wgmma_fence"() : () -> ()
// WGMMA-NEXT: gpu.barrier
// WGMMA: scf.for {{.*}} -> (vector<64xf32>) {
// WGMMA: %[[D0:.*]] = "hwprim.wgmma"(%{{.*}}, %{{.*}}, %{{.*}}) : (vector<64xf32>, memref<8x2x8x4xf32, strided<[128, 32, 4, 1], offset: ?>, #gpu.address_space<workgroup>>, memref<16x2x8x4xf32, strided<[128, 32, 4, 1], offset: ?>, #gpu.address_space<workgroup>>) -> vector<64xf32>
// WGMMA: "hwprim.wgmma"(%[[D0]], %{{.*}}, %{{.*}})
// WGMMA-NEXT: "hwprim.wgmma_commit"() : () -> ()
// WGMMA: "hwprim.wgmma_wait"() {pending = 0 : i64} : () -> ()
// WGMMA: } {tprog.loop = "matmul_ko"}
// WGMMA: "hwprim.wgmma_store"(%{{.*}}, %[[C]], %{{.*}}, %{{.*}}) : (vector<64xf32>, memref<256x98xf32>, index, index) -> ()
func.func private @matmul(%arg0: memref<256x72xf32>, %arg1: memref<72x98xf32>, %arg2: memref<256x98xf32>) attributes {tprog.prim_func} {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c72 = arith.constant 72 : index
  %c98 = arith.constant 98 : index
  %c256 = arith.constant 256 : index
  scf.for %i = %c0 to %c256 step %c1 {
    scf.for %j = %c0 to %c98 step %c1 {
      scf.for %k = %c0 to %c72 step %c1 {
        "tprog.block"(%i, %j, %k) ({
        ^bb0(%vi: index, %vj: index, %vk: index):
          %cst = arith.constant 0.000000e+00 : f32
          memref.store %cst, %arg2[%vi, %vj] : memref<256x98xf32>
          omp.terminator
        }, {
        ^bb0(%vi: index, %vj: index, %vk: index):
          %0 = memref.load %arg0[%vi, %vk] : memref<256x72xf32>
          %1 = memref.load %arg1[%vk, %vj] : memref<72x98xf32>
          %2 = memref.load %arg2[%vi, %vj] : memref<256x98xf32>
          %3 = arith.mulf %0, %1 : f32
          %4 = arith.addf %2, %3 : f32
          memref.store %4, %arg2[%vi, %vj] : memref<256x98xf32>
          omp.terminator
        }) {dom = array<i64: 256, 98, 72>, iter_types = ["spatial", "spatial", "reduction"], name = "matmul"} : (index, index, index) -> ()
      } {tprog.loop = "k"}
    } {tprog.loop = "j"}
  } {tprog.loop = "i"}
  return
}
