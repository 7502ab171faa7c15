// RUN: not strata-opt %s 2>&1 | FileCheck %s

// Found by the driver fuzzer: a file cut inside its dialect_resources section (an unterminated
// string) made the upstream parser assert and abort the process. It is refused before parsing.
// CHECK: unterminated-resource.mlir:[[@LINE+8]]:10: error: unterminated string in the file metadata section
func.func @f(%x: tensor<2xf32>) -> tensor<2xf32> {
  %d = "graph.constant"() {value = dense_resource<w> : tensor<2xf32>} : () -> tensor<2xf32>
  return %d : tensor<2xf32>
}
{-#
  dialect_resources: {
    builtin: {
      w: "0x0400
