// Malformed IR is reported at its file:line:col.
// RUN: not strata-opt %s 2>&1 | FileCheck %s -DFILE=%s

// CHECK: [[FILE]]:[[@LINE+2]]:{{[0-9]+}}: error: expected ')' to end operand list
func.func @f(%x: tensor<4xf32>, %y: tensor<4xf32>) -> tensor<4xf32> {
  %r = "graph.add"(%x %y) : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  return %r : tensor<4xf32>
}
