// With --split-input-file every chunk is checked: errors of several chunks are all reported,
// each at its line in the whole file, and nothing is printed to stdout.
// RUN: not strata-opt %s --split-input-file 2>&1 >%t.out | FileCheck %s -DFILE=%s
// RUN: count 0 < %t.out

// CHECK: [[FILE]]:[[@LINE+2]]:8: error: contracting dimensions differ
func.func @first(%a: tensor<2x4xf32>, %b: tensor<5x3xf32>) -> tensor<2x3xf32> {
  %r = "graph.matmul"(%a, %b) : (tensor<2x4xf32>, tensor<5x3xf32>) -> tensor<2x3xf32>
  return %r : tensor<2x3xf32>
}

// -----

func.func @fine(%x: tensor<4xf32>) -> tensor<4xf32> {
  %r = "graph.relu"(%x) : (tensor<4xf32>) -> tensor<4xf32>
  return %r : tensor<4xf32>
}

// -----

// CHECK: [[FILE]]:[[@LINE+2]]:8: error: shapes 2x3 and 4 do not broadcast
func.func @third(%x: tensor<2x3xf32>, %b: tensor<4xf32>) -> tensor<2x3xf32> {
  %r = "graph.add"(%x, %b) : (tensor<2x3xf32>, tensor<4xf32>) -> tensor<2x3xf32>
  return %r : tensor<2x3xf32>
}
