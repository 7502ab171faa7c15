// Strata's op verifiers run right after parsing and report located errors, without any pass.
// RUN: not strata-opt %s 2>&1 | FileCheck %s -DFILE=%s

// CHECK: [[FILE]]:[[@LINE+2]]:8: error: contracting dimensions differ
func.func @f(%a: tensor<2x4xf32>, %b: tensor<5x3xf32>) -> tensor<2x3xf32> {
  %r = "graph.matmul"(%a, %b) : (tensor<2x4xf32>, tensor<5x3xf32>) -> tensor<2x3xf32>
  return %r : tensor<2x3xf32>
}
