// RUN: strata-opt %s --split-input-file --graph-fold-batchnorm | FileCheck %s

// Batch norm after a convolution with a constant weight: the weight is scaled per output
// channel and a bias add takes the batch norm's place.
// scale = [2, 6] / sqrt([3, 8] + 1) = [1, 2]: weight [1, 1] -> [1, 2];
// bias = [1, 0] - [0, 1] * scale = [1, -2]
// CHECK-LABEL: func.func @conv
// CHECK-SAME: (%[[X:.*]]: tensor<1x1x4x4xf32>)
// CHECK-NOT: graph.batch_norm
// CHECK: %[[W:.*]] = "graph.constant"() {value = dense_resource<[[WN:bn_folded_weight[_0-9]*]]> : tensor<2x1x1x1xf32>}
// CHECK: %[[C:.*]] = "graph.conv2d"(%[[X]], %[[W]])
// CHECK: %[[B:.*]] = "graph.constant"() {value = dense_resource<[[BN:bn_folded_bias[_0-9]*]]> : tensor<2x1x1xf32>}
// CHECK: %[[Y:.*]] = "graph.add"(%[[C]], %[[B]]) : (tensor<1x2x4x4xf32>, tensor<2x1x1xf32>) -> tensor<1x2x4x4xf32>
// CHECK: return %[[Y]]
// CHECK-DAG: [[WN]]: "0x040000000000803F00000040"
// CHECK-DAG: [[BN]]: "0x040000000000803F000000C0"
func.func @conv(%x: tensor<1x1x4x4xf32>) -> tensor<1x2x4x4xf32> {
  %w = "graph.constant"() {value = dense<1.0> : tensor<2x1x1x1xf32>} : () -> tensor<2x1x1x1xf32>
  %g = "graph.constant"() {value = dense<[2.0, 6.0]> : tensor<2xf32>} : () -> tensor<2xf32>
  %b = "graph.constant"() {value = dense<[1.0, 0.0]> : tensor<2xf32>} : () -> tensor<2xf32>
  %m = "graph.constant"() {value = dense<[0.0, 1.0]> : tensor<2xf32>} : () -> tensor<2xf32>
  %v = "graph.constant"() {value = dense<[3.0, 8.0]> : tensor<2xf32>} : () -> tensor<2xf32>
  %c = "graph.conv2d"(%x, %w) {strides = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>, dilation = array<i64: 1, 1>, groups = 1 : i64} : (tensor<1x1x4x4xf32>, tensor<2x1x1x1xf32>) -> tensor<1x2x4x4xf32>
  %y = "graph.batch_norm"(%c, %g, %b, %m, %v) {epsilon = 1.0 : f64} : (tensor<1x2x4x4xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>) -> tensor<1x2x4x4xf32>
  return %y : tensor<1x2x4x4xf32>
}

// -----

// Through the convolution's bias add (a constant broadcast per channel): the add takes the
// folded bias. bias = [1, 0] + ([1, 1] - [0, 1]) * [1, 2] = [2, 0]
// CHECK-LABEL: func.func @conv_bias
// CHECK-SAME: (%[[X:.*]]: tensor<1x1x4x4xf32>)
// CHECK-NOT: graph.batch_norm
// CHECK: %[[W:.*]] = "graph.constant"() {value = dense_resource<[[WN:bn_folded_weight[_0-9]*]]>
// CHECK: %[[C:.*]] = "graph.conv2d"(%[[X]], %[[W]])
// CHECK: %[[B:.*]] = "graph.constant"() {value = dense_resource<[[BN:bn_folded_bias[_0-9]*]]> : tensor<2x1x1xf32>}
// CHECK: %[[Y:.*]] = "graph.add"(%[[B]], %[[C]])
// CHECK-NOT: "graph.add"
// CHECK: return %[[Y]]
// CHECK-DAG: [[BN]]: "0x040000000000004000000000"
func.func @conv_bias(%x: tensor<1x1x4x4xf32>) -> tensor<1x2x4x4xf32> {
  %w = "graph.constant"() {value = dense<1.0> : tensor<2x1x1x1xf32>} : () -> tensor<2x1x1x1xf32>
  %cb = "graph.constant"() {value = dense<1.0> : tensor<1x2x1x1xf32>} : () -> tensor<1x2x1x1xf32>
  %g = "graph.constant"() {value = dense<[2.0, 6.0]> : tensor<2xf32>} : () -> tensor<2xf32>
  %b = "graph.constant"() {value = dense<[1.0, 0.0]> : tensor<2xf32>} : () -> tensor<2xf32>
  %m = "graph.constant"() {value = dense<[0.0, 1.0]> : tensor<2xf32>} : () -> tensor<2xf32>
  %v = "graph.constant"() {value = dense<[3.0, 8.0]> : tensor<2xf32>} : () -> tensor<2xf32>
  %c = "graph.conv2d"(%x, %w) {strides = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>, dilation = array<i64: 1, 1>, groups = 1 : i64} : (tensor<1x1x4x4xf32>, tensor<2x1x1x1xf32>) -> tensor<1x2x4x4xf32>
  %a = "graph.add"(%cb, %c) : (tensor<1x2x1x1xf32>, tensor<1x2x4x4xf32>) -> tensor<1x2x4x4xf32>
  %y = "graph.batch_norm"(%a, %g, %b, %m, %v) {epsilon = 1.0 : f64} : (tensor<1x2x4x4xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>) -> tensor<1x2x4x4xf32>
  return %y : tensor<1x2x4x4xf32>
}

// -----

// Batch norm after a linear layer (2-D result: features are dimension 1): the weight's columns
// are scaled. [[1, 1]] -> [[1, 2]]; bias [1, -2]
// CHECK-LABEL: func.func @linear
// CHECK-SAME: (%[[X:.*]]: tensor<3x1xf32>)
// CHECK-NOT: graph.batch_norm
// CHECK: %[[W:.*]] = "graph.constant"() {value = dense_resource<[[WN:bn_folded_weight[_0-9]*]]> : tensor<1x2xf32>}
// CHECK: %[[M:.*]] = "graph.matmul"(%[[X]], %[[W]])
// CHECK: %[[B:.*]] = "graph.constant"() {value = dense_resource<[[BN:bn_folded_bias[_0-9]*]]> : tensor<2xf32>}
// CHECK: %[[Y:.*]] = "graph.add"(%[[M]], %[[B]]) : (tensor<3x2xf32>, tensor<2xf32>) -> tensor<3x2xf32>
// CHECK: return %[[Y]]
// CHECK-DAG: [[WN]]: "0x040000000000803F00000040"
// CHECK-DAG: [[BN]]: "0x040000000000803F000000C0"
func.func @linear(%x: tensor<3x1xf32>) -> tensor<3x2xf32> {
  %w = "graph.constant"() {value = dense<1.0> : tensor<1x2xf32>} : () -> tensor<1x2xf32>
  %g = "graph.constant"() {value = dense<[2.0, 6.0]> : tensor<2xf32>} : () -> tensor<2xf32>
  %b = "graph.constant"() {value = dense<[1.0, 0.0]> : tensor<2xf32>} : () -> tensor<2xf32>
  %m = "graph.constant"() {value = dense<[0.0, 1.0]> : tensor<2xf32>} : () -> tensor<2xf32>
  %v = "graph.constant"() {value = dense<[3.0, 8.0]> : tensor<2xf32>} : () -> tensor<2xf32>
  %mm = "graph.matmul"(%x, %w) : (tensor<3x1xf32>, tensor<1x2xf32>) -> tensor<3x2xf32>
  %y = "graph.batch_norm"(%mm, %g, %b, %m, %v) {epsilon = 1.0 : f64} : (tensor<3x2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>) -> tensor<3x2xf32>
  return %y : tensor<3x2xf32>
}

// -----

// A convolution whose result has another use is not folded.
// CHECK-LABEL: func.func @conv_other_use
// CHECK: %[[C:.*]] = "graph.conv2d"
// CHECK: %[[Y:.*]] = "graph.batch_norm"(%[[C]],
// CHECK: return %[[Y]], %[[C]]
func.func @conv_other_use(%x: tensor<1x1x4x4xf32>) -> (tensor<1x2x4x4xf32>, tensor<1x2x4x4xf32>) {
  %w = "graph.constant"() {value = dense<1.0> : tensor<2x1x1x1xf32>} : () -> tensor<2x1x1x1xf32>
  %p = "graph.constant"() {value = dense<1.0> : tensor<2xf32>} : () -> tensor<2xf32>
  %c = "graph.conv2d"(%x, %w) {strides = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>, dilation = array<i64: 1, 1>, groups = 1 : i64} : (tensor<1x1x4x4xf32>, tensor<2x1x1x1xf32>) -> tensor<1x2x4x4xf32>
  %y = "graph.batch_norm"(%c, %p, %p, %p, %p) {epsilon = 1.0 : f64} : (tensor<1x2x4x4xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>) -> tensor<1x2x4x4xf32>
  return %y, %c : tensor<1x2x4x4xf32>, tensor<1x2x4x4xf32>
}

// -----

// Batch norm statistics that are not constants are not folded.
// CHECK-LABEL: func.func @runtime_mean
// CHECK: "graph.batch_norm"
func.func @runtime_mean(%x: tensor<1x1x4x4xf32>, %mean: tensor<2xf32>) -> tensor<1x2x4x4xf32> {
  %w = "graph.constant"() {value = dense<1.0> : tensor<2x1x1x1xf32>} : () -> tensor<2x1x1x1xf32>
  %p = "graph.constant"() {value = dense<1.0> : tensor<2xf32>} : () -> tensor<2xf32>
  %c = "graph.conv2d"(%x, %w) {strides = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>, dilation = array<i64: 1, 1>, groups = 1 : i64} : (tensor<1x1x4x4xf32>, tensor<2x1x1x1xf32>) -> tensor<1x2x4x4xf32>
  %y = "graph.batch_norm"(%c, %p, %p, %mean, %p) {epsilon = 1.0 : f64} : (tensor<1x2x4x4xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>) -> tensor<1x2x4x4xf32>
  return %y : tensor<1x2x4x4xf32>
}

// -----

// A convolution weight that is not a constant is not folded.
// CHECK-LABEL: func.func @runtime_weight
// CHECK: "graph.batch_norm"
func.func @runtime_weight(%x: tensor<1x1x4x4xf32>, %w: tensor<2x1x1x1xf32>) -> tensor<1x2x4x4xf32> {
  %p = "graph.constant"() {value = dense<1.0> : tensor<2xf32>} : () -> tensor<2xf32>
  %c = "graph.conv2d"(%x, %w) {strides = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>, dilation = array<i64: 1, 1>, groups = 1 : i64} : (tensor<1x1x4x4xf32>, tensor<2x1x1x1xf32>) -> tensor<1x2x4x4xf32>
  %y = "graph.batch_norm"(%c, %p, %p, %p, %p) {epsilon = 1.0 : f64} : (tensor<1x2x4x4xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>) -> tensor<1x2x4x4xf32>
  return %y : tensor<1x2x4x4xf32>
}

// -----

// A batched matmul's dimension 1 is its rows, not the weight's features: not folded.
// CHECK-LABEL: func.func @batched_matmul
// CHECK: "graph.batch_norm"
func.func @batched_matmul(%x: tensor<2x3x1xf32>) -> tensor<2x3x3xf32> {
  %w = "graph.constant"() {value = dense<1.0> : tensor<1x3xf32>} : () -> tensor<1x3xf32>
  %p = "graph.constant"() {value = dense<1.0> : tensor<3xf32>} : () -> tensor<3xf32>
  %mm = "graph.matmul"(%x, %w) : (tensor<2x3x1xf32>, tensor<1x3xf32>) -> tensor<2x3x3xf32>
  %y = "graph.batch_norm"(%mm, %p, %p, %p, %p) {epsilon = 1.0 : f64} : (tensor<2x3x3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>) -> tensor<2x3x3xf32>
  return %y : tensor<2x3x3xf32>
}

// -----

// A bias add that varies along another dimension than the channels is not folded.
// CHECK-LABEL: func.func @bias_not_per_channel
// CHECK: "graph.batch_norm"
func.func @bias_not_per_channel(%x: tensor<1x1x4x4xf32>) -> tensor<1x2x4x4xf32> {
  %w = "graph.constant"() {value = dense<1.0> : tensor<2x1x1x1xf32>} : () -> tensor<2x1x1x1xf32>
  %cb = "graph.constant"() {value = dense<[1.0, 2.0, 3.0, 4.0]> : tensor<4xf32>} : () -> tensor<4xf32>
  %p = "graph.constant"() {value = dense<1.0> : tensor<2xf32>} : () -> tensor<2xf32>
  %c = "graph.conv2d"(%x, %w) {strides = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>, dilation = array<i64: 1, 1>, groups = 1 : i64} : (tensor<1x1x4x4xf32>, tensor<2x1x1x1xf32>) -> tensor<1x2x4x4xf32>
  %a = "graph.add"(%c, %cb) : (tensor<1x2x4x4xf32>, tensor<4xf32>) -> tensor<1x2x4x4xf32>
  %y = "graph.batch_norm"(%a, %p, %p, %p, %p) {epsilon = 1.0 : f64} : (tensor<1x2x4x4xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>) -> tensor<1x2x4x4xf32>
  return %y : tensor<1x2x4x4xf32>
}
