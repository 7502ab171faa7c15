// A Strata op in custom form (IRDL ops have none) gets a located error that says what to write.
// RUN: not strata-opt %s 2>&1 | FileCheck %s -DFILE=%s

// CHECK: [[FILE]]:[[@LINE+2]]:8: error: 'graph.relu' has no custom assembly format (IRDL ops print and parse only in generic form): write "graph.relu"(...) : (...) -> ...
func.func @f(%x: tensor<4xf32>) -> tensor<4xf32> {
  %r = graph.relu %x : tensor<4xf32>
  return %r : tensor<4xf32>
}
