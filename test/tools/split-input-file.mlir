// --split-input-file processes each chunk on its own and joins the outputs with '// -----'.
// RUN: strata-opt %s --split-input-file | FileCheck %s
// Without the flag the file is one module, with both functions.
// RUN: strata-opt %s | FileCheck %s --check-prefix=WHOLE

// CHECK: module {
// CHECK-LABEL: func.func @first
// CHECK: {{^}}}
// CHECK-NEXT: // -----
// CHECK-NEXT: module {
// CHECK-LABEL: func.func @second
// CHECK-NOT: // -----

// WHOLE: module {
// WHOLE-LABEL: func.func @first
// WHOLE-NOT: module {
// WHOLE-LABEL: func.func @second

func.func @first(%x: tensor<4xf32>) -> tensor<4xf32> {
  %r = "graph.relu"(%x) : (tensor<4xf32>) -> tensor<4xf32>
  return %r : tensor<4xf32>
}

// -----

func.func @second(%x: tensor<4xf32>) -> tensor<4xf32> {
  %r = "graph.relu"(%x) : (tensor<4xf32>) -> tensor<4xf32>
  return %r : tensor<4xf32>
}
