// `strata compile --target cuda` writes an artifact directory (PTX, launch manifest, weights,
// runtime.py, inputs and expected outputs); its runtime validates it without a GPU.
// RUN: rm -rf %t.strata
// RUN: strata compile %s --target cuda --chip sm_80 -o %t.strata 2>&1 | FileCheck %s
// RUN: %python %t.strata/runtime.py %t.strata --check | FileCheck %s --check-prefix=VALID
// RUN: strata compile %s --target cuda --compile-to tprog 2>&1 | FileCheck %s --check-prefix=TPROG
// RUN: not strata compile %s --target cuda 2>&1 | FileCheck %s --check-prefix=NO-OUTPUT
// RUN: not strata compile %s --chip sm_80 2>&1 | FileCheck %s --check-prefix=CHIP
// RUN: not strata compile %s --target cuda --chip sm_75 -o %t.bad 2>&1 | FileCheck %s --check-prefix=BAD-CHIP
// RUN: not ls %t.bad

// CHECK: cuda sm_80: {{[0-9]+}} kernel launches, 0 other steps, PTX {{[0-9]+}} bytes
// CHECK: wrote {{.*}}.strata/
// VALID: valid ({{[0-9]+}} steps, chip sm_80)
// TPROG: tprog
// TPROG: func.func private @softmax
// NO-OUTPUT: strata: error: --target cuda writes an artifact directory: give -o DIR
// CHIP: strata: error: --chip needs --target cuda
// BAD-CHIP: error: invalid value 'sm_75' for option 'chip' of 'strata-lower-to-llvm': expected sm_80, sm_86, sm_89, sm_90, sm_90a
func.func @main(%x: tensor<4x8xf32>, %w: tensor<8x16xf32>) -> tensor<4x16xf32> {
  %0 = "graph.matmul"(%x, %w) : (tensor<4x8xf32>, tensor<8x16xf32>) -> tensor<4x16xf32>
  %1 = "graph.relu"(%0) : (tensor<4x16xf32>) -> tensor<4x16xf32>
  %2 = "graph.softmax"(%1) {axis = 1 : i64} : (tensor<4x16xf32>) -> tensor<4x16xf32>
  return %2 : tensor<4x16xf32>
}
