// RUN: strata-opt %s --split-input-file --convert-tprog-to-scf | FileCheck %s

// A reduction block: the init runs under scf.if when k == 0, then the body, inlined with the
// loop induction variables in place of the block arguments.
// CHECK-LABEL: func.func private @matmul
// CHECK-SAME: (%[[A:.*]]: memref<16x64xf32>, %[[B:.*]]: memref<64x32xf32>, %[[C:.*]]: memref<16x32xf32>)
// CHECK-NOT: tprog.block
// CHECK: scf.for %[[I:.*]] = %{{.*}} to %{{.*}} step
// CHECK-NEXT: scf.for %[[J:.*]] = %{{.*}} to %{{.*}} step
// CHECK-NEXT: scf.for %[[K:.*]] = %{{.*}} to %{{.*}} step
// CHECK-NEXT: %[[ZERO:.*]] = arith.constant 0 : index
// CHECK-NEXT: %[[FIRST:.*]] = arith.cmpi eq, %[[K]], %[[ZERO]] : index
// CHECK-NEXT: scf.if %[[FIRST]] {
// CHECK-NEXT: %[[CST:.*]] = arith.constant 0.000000e+00 : f32
// CHECK-NEXT: memref.store %[[CST]], %[[C]][%[[I]], %[[J]]]
// CHECK-NEXT: }
// CHECK-NEXT: memref.load %[[A]][%[[I]], %[[K]]]
// CHECK-NEXT: memref.load %[[B]][%[[K]], %[[J]]]
// CHECK: arith.mulf
// CHECK: arith.addf
// CHECK: memref.store %{{.*}}, %[[C]][%[[I]], %[[J]]]
// CHECK-NEXT: } {tprog.loop = "k"}
// CHECK-NOT: omp.terminator
func.func private @matmul(%arg0: memref<16x64xf32>, %arg1: memref<64x32xf32>, %arg2: memref<16x32xf32>) attributes {tprog.prim_func} {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c16 = arith.constant 16 : index
  %c32 = arith.constant 32 : index
  %c64 = arith.constant 64 : index
  scf.for %arg3 = %c0 to %c16 step %c1 {
    scf.for %arg4 = %c0 to %c32 step %c1 {
      scf.for %arg5 = %c0 to %c64 step %c1 {
        "tprog.block"(%arg3, %arg4, %arg5) ({
        ^bb0(%arg6: index, %arg7: index, %arg8: index):
          %cst = arith.constant 0.000000e+00 : f32
          memref.store %cst, %arg2[%arg6, %arg7] : memref<16x32xf32>
          omp.terminator
        }, {
        ^bb0(%arg6: index, %arg7: index, %arg8: index):
          %0 = memref.load %arg0[%arg6, %arg8] : memref<16x64xf32>
          %1 = memref.load %arg1[%arg8, %arg7] : memref<64x32xf32>
          %2 = memref.load %arg2[%arg6, %arg7] : memref<16x32xf32>
          %3 = arith.mulf %0, %1 : f32
          %4 = arith.addf %2, %3 : f32
          memref.store %4, %arg2[%arg6, %arg7] : memref<16x32xf32>
          omp.terminator
        }) {dom = array<i64: 16, 32, 64>, iter_types = ["spatial", "spatial", "reduction"], name = "matmul"} : (index, index, index) -> ()
      } {tprog.loop = "k"}
    } {tprog.loop = "j"}
  } {tprog.loop = "i"}
  return
}

// -----

// A spatial block is inlined without a condition.
// CHECK-LABEL: func.func private @add
// CHECK-NOT: scf.if
// CHECK-NOT: tprog.block
// CHECK: scf.for %[[I:.*]] =
// CHECK-NEXT: scf.for %[[J:.*]] =
// CHECK-NEXT: memref.load %{{.*}}[%[[I]], %[[J]]]
// CHECK-NEXT: memref.load %{{.*}}[%[[J]]]
// CHECK-NEXT: arith.addf
// CHECK-NEXT: memref.store
// CHECK-NEXT: } {tprog.loop = "i1"}
func.func private @add(%arg0: memref<16x32xf32>, %arg1: memref<32xf32>, %arg2: memref<16x32xf32>) attributes {tprog.prim_func} {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c16 = arith.constant 16 : index
  %c32 = arith.constant 32 : index
  scf.for %arg3 = %c0 to %c16 step %c1 {
    scf.for %arg4 = %c0 to %c32 step %c1 {
      "tprog.block"(%arg3, %arg4) ({
      ^bb0(%arg5: index, %arg6: index):
        omp.terminator
      }, {
      ^bb0(%arg5: index, %arg6: index):
        %0 = memref.load %arg0[%arg5, %arg6] : memref<16x32xf32>
        %1 = memref.load %arg1[%arg6] : memref<32xf32>
        %2 = arith.addf %0, %1 : f32
        memref.store %2, %arg2[%arg5, %arg6] : memref<16x32xf32>
        omp.terminator
      }) {dom = array<i64: 16, 32>, iter_types = ["spatial", "spatial"], name = "add"} : (index, index) -> ()
    } {tprog.loop = "i1"}
  } {tprog.loop = "i0"}
  return
}

// -----

// A block with two reduction variables initialises when both are 0.
// CHECK-LABEL: func.func private @sum2d
// CHECK: %[[E0:.*]] = arith.cmpi eq, %[[R0:.*]], %[[Z:.*]] : index
// CHECK-NEXT: %[[E1:.*]] = arith.cmpi eq, %[[R1:.*]], %[[Z]] : index
// CHECK-NEXT: %[[BOTH:.*]] = arith.andi %[[E0]], %[[E1]] : i1
// CHECK-NEXT: scf.if %[[BOTH]] {
func.func private @sum2d(%x: memref<4x8xf32>, %out: memref<f32>) attributes {tprog.prim_func} {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %c8 = arith.constant 8 : index
  scf.for %i = %c0 to %c4 step %c1 {
    scf.for %j = %c0 to %c8 step %c1 {
      "tprog.block"(%i, %j) ({
      ^bb0(%vi: index, %vj: index):
        %cst = arith.constant 0.000000e+00 : f32
        memref.store %cst, %out[] : memref<f32>
        omp.terminator
      }, {
      ^bb0(%vi: index, %vj: index):
        %0 = memref.load %x[%vi, %vj] : memref<4x8xf32>
        %1 = memref.load %out[] : memref<f32>
        %2 = arith.addf %0, %1 : f32
        memref.store %2, %out[] : memref<f32>
        omp.terminator
      }) {dom = array<i64: 4, 8>, iter_types = ["reduction", "reduction"], name = "sum"} : (index, index) -> ()
    } {tprog.loop = "j"}
  } {tprog.loop = "i"}
  return
}
