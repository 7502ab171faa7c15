// RUN: strata-opt %s --split-input-file --tprog-gpu-tensorize=chip=sm_90a | FileCheck %s
// RUN: strata-opt %s --split-input-file --tprog-gpu-tensorize=chip=sm_75 | FileCheck %s
// RUN: not strata-opt %s --tprog-gpu-tensorize=chip=ampere 2>&1 | FileCheck %s --check-prefix=CHIP

// CHIP: invalid value 'ampere' for option 'chip' of 'tprog-gpu-tensorize': expected sm_<NN> or sm_<NN>a

// An f32 matmul is not for TensorCores here (tprog-gpu-schedule tiles it).
// CHECK-LABEL: func.func private @f32
// CHECK: "tprog.block"
// CHECK-NOT: hwprim
func.func private @f32(%arg0: memref<16x16xf32>, %arg1: memref<16x16xf32>, %arg2: memref<16x16xf32>) attributes {tprog.prim_func} {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c16 = arith.constant 16 : index
  scf.for %i = %c0 to %c16 step %c1 {
    scf.for %j = %c0 to %c16 step %c1 {
      scf.for %k = %c0 to %c16 step %c1 {
        "tprog.block"(%i, %j, %k) ({
        ^bb0(%vi: index, %vj: index, %vk: index):
          %cst = arith.constant 0.000000e+00 : f32
          memref.store %cst, %arg2[%vi, %vj] : memref<16x16xf32>
          omp.terminator
        }, {
        ^bb0(%vi: index, %vj: index, %vk: index):
          %0 = memref.load %arg0[%vi, %vk] : memref<16x16xf32>
          %1 = memref.load %arg1[%vk, %vj] : memref<16x16xf32>
          %2 = memref.load %arg2[%vi, %vj] : memref<16x16xf32>
          %3 = arith.mulf %0, %1 : f32
          %4 = arith.addf %2, %3 : f32
          memref.store %4, %arg2[%vi, %vj] : memref<16x16xf32>
          omp.terminator
        }) {dom = array<i64: 16, 16, 16>, iter_types = ["spatial", "spatial", "reduction"], name = "matmul"} : (index, index, index) -> ()
      } {tprog.loop = "k"}
    } {tprog.loop = "j"}
  } {tprog.loop = "i"}
  return
}

// -----

// An f16 elementwise block is not a matmul.
// CHECK-LABEL: func.func private @relu
// CHECK: "tprog.block"
// CHECK-NOT: hwprim
func.func private @relu(%arg0: memref<16xf16>, %arg1: memref<16xf16>) attributes {tprog.prim_func} {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c16 = arith.constant 16 : index
  scf.for %i = %c0 to %c16 step %c1 {
    "tprog.block"(%i) ({
    ^bb0(%vi: index):
      omp.terminator
    }, {
    ^bb0(%vi: index):
      %0 = memref.load %arg0[%vi] : memref<16xf16>
      %z = arith.constant 0.000000e+00 : f16
      %1 = arith.maximumf %0, %z : f16
      memref.store %1, %arg1[%vi] : memref<16xf16>
      omp.terminator
    }) {dom = array<i64: 16>, iter_types = ["spatial"], name = "relu"} : (index) -> ()
  } {tprog.loop = "i"}
  return
}

// -----

// An f16 matrix-vector product (no i loop) is not an mma tile either.
// CHECK-LABEL: func.func private @matvec
// CHECK: "tprog.block"
// CHECK-NOT: hwprim
func.func private @matvec(%arg0: memref<16xf16>, %arg1: memref<16x8xf16>, %arg2: memref<8xf16>) attributes {tprog.prim_func} {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c8 = arith.constant 8 : index
  %c16 = arith.constant 16 : index
  scf.for %j = %c0 to %c8 step %c1 {
    scf.for %k = %c0 to %c16 step %c1 {
      "tprog.block"(%j, %k) ({
      ^bb0(%vj: index, %vk: index):
        %cst = arith.constant 0.000000e+00 : f16
        memref.store %cst, %arg2[%vj] : memref<8xf16>
        omp.terminator
      }, {
      ^bb0(%vj: index, %vk: index):
        %0 = memref.load %arg0[%vk] : memref<16xf16>
        %1 = memref.load %arg1[%vk, %vj] : memref<16x8xf16>
        %2 = memref.load %arg2[%vj] : memref<8xf16>
        %3 = arith.mulf %0, %1 : f16
        %4 = arith.addf %2, %3 : f16
        memref.store %4, %arg2[%vj] : memref<8xf16>
        omp.terminator
      }) {dom = array<i64: 8, 16>, iter_types = ["spatial", "reduction"], name = "matvec"} : (index, index) -> ()
    } {tprog.loop = "k"}
  } {tprog.loop = "j"}
  return
}
