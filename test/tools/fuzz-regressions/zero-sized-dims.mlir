// RUN: not strata-opt %s --convert-graph-to-tprog 2>&1 | FileCheck %s

// Found by the driver fuzzer: zero-sized dimensions reached the lowerings, and layer_norm's
// mean divided by zero (an internal error). Graph ops refuse them.
// CHECK: zero-sized-dims.mlir:[[@LINE+2]]:8: error: input has a zero-sized dimension: tensor<0x2x1x8xf32>
func.func @layer_norm_all(%x: tensor<0x2x1x8xf32>, %w: tensor<0x2x1x8xf32>, %b: tensor<0x2x1x8xf32>) -> tensor<0x2x1x8xf32> {
  %0 = "graph.layer_norm"(%x, %w, %b) {epsilon = 1.0e-03 : f64} : (tensor<0x2x1x8xf32>, tensor<0x2x1x8xf32>, tensor<0x2x1x8xf32>) -> tensor<0x2x1x8xf32>
  return %0 : tensor<0x2x1x8xf32>
}
