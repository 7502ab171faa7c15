// RUN: strata-opt %s --split-input-file --verify-diagnostics | FileCheck %s
// RUN: strata-opt %s --split-input-file | strata-opt --split-input-file | FileCheck %s

// A reduction block: init zeroes the output, body accumulates; loops are named scf.for.
// CHECK-LABEL: func.func private @matmul
// CHECK-SAME: (%[[A:.*]]: memref<4x2xf32>, %[[B:.*]]: memref<2x8xf32>, %[[C:.*]]: memref<4x8xf32>) attributes {tprog.prim_func}
// CHECK: scf.for %[[I:.*]] = 
// CHECK: scf.for %[[J:.*]] = 
// CHECK: scf.for %[[K:.*]] = 
// CHECK: "tprog.block"(%[[I]], %[[J]], %[[K]]) ({
// CHECK: ^bb0(%[[II:.*]]: index, %[[IJ:.*]]: index, %{{.*}}: index):
// CHECK: memref.store %{{.*}}, %[[C]][%[[II]], %[[IJ]]]
// CHECK: omp.terminator
// CHECK: }, {
// CHECK: ^bb0(%[[VI:.*]]: index, %[[VJ:.*]]: index, %[[VK:.*]]: index):
// CHECK: memref.load %[[A]][%[[VI]], %[[VK]]]
// CHECK: arith.mulf
// CHECK: arith.addf
// CHECK: omp.terminator
// CHECK: }) {dom = array<i64: 4, 8, 2>, iter_types = ["spatial", "spatial", "reduction"], name = "matmul"} : (index, index, index) -> ()
// CHECK: } {tprog.loop = "k"}
// CHECK: } {tprog.loop = "j"}
// CHECK: } {tprog.loop = "i"}
func.func private @matmul(%arg0: memref<4x2xf32>, %arg1: memref<2x8xf32>, %arg2: memref<4x8xf32>) attributes {tprog.prim_func} {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c4 = arith.constant 4 : index
  %c8 = arith.constant 8 : index
  scf.for %i = %c0 to %c4 step %c1 {
    scf.for %j = %c0 to %c8 step %c1 {
      scf.for %k = %c0 to %c2 step %c1 {
        "tprog.block"(%i, %j, %k) ({
        ^bb0(%vi: index, %vj: index, %vk: index):
          %cst = arith.constant 0.000000e+00 : f32
          memref.store %cst, %arg2[%vi, %vj] : memref<4x8xf32>
          omp.terminator
        }, {
        ^bb0(%vi: index, %vj: index, %vk: index):
          %0 = memref.load %arg0[%vi, %vk] : memref<4x2xf32>
          %1 = memref.load %arg1[%vk, %vj] : memref<2x8xf32>
          %2 = memref.load %arg2[%vi, %vj] : memref<4x8xf32>
          %3 = arith.mulf %0, %1 : f32
          %4 = arith.addf %2, %3 : f32
          memref.store %4, %arg2[%vi, %vj] : memref<4x8xf32>
          omp.terminator
        }) {dom = array<i64: 4, 8, 2>, iter_types = ["spatial", "spatial", "reduction"], name = "matmul"} : (index, index, index) -> ()
      } {tprog.loop = "k"}
    } {tprog.loop = "j"}
  } {tprog.loop = "i"}
  return
}

// -----

// A spatial block has an init region that holds only its terminator.
// CHECK-LABEL: func.func private @relu
// CHECK: "tprog.block"(%{{.*}}) ({
// CHECK-NEXT: ^bb0(%{{.*}}: index):
// CHECK-NEXT: omp.terminator
// CHECK-NEXT: }, {
// CHECK: arith.maximumf
// CHECK: }) {dom = array<i64: 8>, iter_types = ["spatial"], name = "relu"} : (index) -> ()
func.func private @relu(%arg0: memref<8xf32>, %arg1: memref<8xf32>) attributes {tprog.prim_func} {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c8 = arith.constant 8 : index
  scf.for %i = %c0 to %c8 step %c1 {
    "tprog.block"(%i) ({
    ^bb0(%v: index):
      omp.terminator
    }, {
    ^bb0(%v: index):
      %0 = memref.load %arg0[%v] : memref<8xf32>
      %cst = arith.constant 0.000000e+00 : f32
      %1 = arith.maximumf %0, %cst : f32
      memref.store %1, %arg1[%v] : memref<8xf32>
      omp.terminator
    }) {dom = array<i64: 8>, iter_types = ["spatial"], name = "relu"} : (index) -> ()
  } {tprog.loop = "i0"}
  return
}

// -----

// A block with no iteration variables (a scalar computation).
// CHECK-LABEL: func.func private @scalar
// CHECK: "tprog.block"() ({
// CHECK: }) {dom = array<i64>, iter_types = [], name = "copy"} : () -> ()
func.func private @scalar(%arg0: memref<f32>, %arg1: memref<f32>) attributes {tprog.prim_func} {
  "tprog.block"() ({
    omp.terminator
  }, {
    %0 = memref.load %arg0[] : memref<f32>
    memref.store %0, %arg1[] : memref<f32>
    omp.terminator
  }) {dom = array<i64>, iter_types = [], name = "copy"} : () -> ()
  return
}
