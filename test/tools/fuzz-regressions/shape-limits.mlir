// RUN: not strata-opt %s --split-input-file --convert-graph-to-tprog 2>&1 | FileCheck %s

// Found by the driver fuzzer: a dense attribute of a type with more elements than fit in 64
// bits made the upstream parser assert (SIGABRT). Refused before parsing.
// CHECK: shape-limits.mlir:[[@LINE+1]]:22: error: the shape 1000000x1000000x16x1000000 has more elements than fit in 64 bits
func.func @huge() -> tensor<1000000x1000000x16x1000000xf32> {
  %c = "graph.constant"() {value = dense<1.0> : tensor<1000000x1000000x16x1000000xf32>} : () -> tensor<1000000x1000000x16x1000000xf32>
  return %c : tensor<1000000x1000000x16x1000000xf32>
}
