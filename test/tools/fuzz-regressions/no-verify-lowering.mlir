// RUN: not strata-opt %s --no-verify --split-input-file --convert-graph-to-tprog 2>&1 | FileCheck %s

// Found by the driver fuzzer: with --no-verify, convert-graph-to-tprog met ops the verifiers would
// have refused and failed inside a lowering (internal error). It verifies what it lowers.
// CHECK: no-verify-lowering.mlir:[[@LINE+2]]:8: error: input must have element type f32, f16 or bf16, found i8
func.func @relu_i8(%x: tensor<4xi8>) -> tensor<4xi8> {
  %0 = "graph.relu"(%x) : (tensor<4xi8>) -> tensor<4xi8>
  return %0 : tensor<4xi8>
}
