// The tprog IRDL file loads in upstream mlir-opt, and a block round-trips there.
// RUN: mlir-opt --irdl-file=%strata_dialects/tprog.irdl.mlir %s | mlir-opt --irdl-file=%strata_dialects/tprog.irdl.mlir | FileCheck %s

// CHECK-LABEL: func.func private @relu
// CHECK: "tprog.block"(%{{.*}}) ({
// CHECK: omp.terminator
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
