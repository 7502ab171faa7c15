// RUN: not strata-opt %s --tprog-gpu-schedule=max-threads=2048 2>&1 | FileCheck %s --check-prefix=THREADS
// RUN: not strata-opt %s --tprog-gpu-schedule=matmul-tile=64,63,8 2>&1 | FileCheck %s --check-prefix=TILE
// RUN: not strata-opt %s --tprog-gpu-schedule=matmul-tile=256,256,8 2>&1 | FileCheck %s --check-prefix=TILE
// RUN: strata-opt %s --graph-fuse-ops --convert-graph-to-tprog --tprog-gpu-schedule=matmul-tile=32,128,16 | FileCheck %s

// Options that make no kernel are refused before any IR is read.
// THREADS: error: invalid value '2048' for option 'max-threads' of 'tprog-gpu-schedule': expected 1 to 1024
// TILE: error: invalid value '{{.*}}' for option 'matmul-tile' of 'tprog-gpu-schedule': expected rows,columns,k

// Another block tile: 32x128 with k steps of 16 (8x32 threads).
// CHECK-LABEL: func.func private @matmul
// CHECK-DAG: memref.alloc() : memref<16x128xf32, #gpu.address_space<workgroup>>
// CHECK-DAG: memref.alloc() : memref<32x16xf32, #gpu.address_space<workgroup>>
// CHECK-DAG: memref.alloca() {tprog.thread_dims = ["threadIdx.y", "threadIdx.x"]} : memref<8x32x4x4xf32>
func.func @f(%x: tensor<64x64xf32>, %w: tensor<64x256xf32>) -> tensor<64x256xf32> {
  %0 = "graph.matmul"(%x, %w) : (tensor<64x64xf32>, tensor<64x256xf32>) -> tensor<64x256xf32>
  return %0 : tensor<64x256xf32>
}
