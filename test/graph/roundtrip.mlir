// RUN: strata-opt %s --split-input-file --verify-diagnostics | FileCheck %s
// RUN: strata-opt %s --split-input-file | strata-opt --split-input-file | FileCheck %s

// A dense constant keeps its value and type.
// CHECK-LABEL: func.func @constant
func.func @constant() -> tensor<2xf32> {
  // CHECK: %[[C:.*]] = "graph.constant"() {value = dense<[1.000000e+00, 2.000000e+00]> : tensor<2xf32>} : () -> tensor<2xf32>
  // CHECK: return %[[C]]
  %c = "graph.constant"() {value = dense<[1.0, 2.0]> : tensor<2xf32>} : () -> tensor<2xf32>
  return %c : tensor<2xf32>
}

// -----

// A 2-D matmul.
// CHECK-LABEL: func.func @matmul
// CHECK-SAME: (%[[A:.*]]: tensor<2x4xf32>, %[[B:.*]]: tensor<4x3xf32>)
func.func @matmul(%a: tensor<2x4xf32>, %b: tensor<4x3xf32>) -> tensor<2x3xf32> {
  // CHECK: "graph.matmul"(%[[A]], %[[B]]) : (tensor<2x4xf32>, tensor<4x3xf32>) -> tensor<2x3xf32>
  %r = "graph.matmul"(%a, %b) : (tensor<2x4xf32>, tensor<4x3xf32>) -> tensor<2x3xf32>
  return %r : tensor<2x3xf32>
}

// -----

// A batched matmul broadcasts the batch dimensions and promotes a 1-D rhs.
// CHECK-LABEL: func.func @matmul_batch_vector
func.func @matmul_batch_vector(%a: tensor<5x2x4xf16>, %b: tensor<4xf16>) -> tensor<5x2xf16> {
  // CHECK: "graph.matmul"(%{{.*}}, %{{.*}}) : (tensor<5x2x4xf16>, tensor<4xf16>) -> tensor<5x2xf16>
  %r = "graph.matmul"(%a, %b) : (tensor<5x2x4xf16>, tensor<4xf16>) -> tensor<5x2xf16>
  return %r : tensor<5x2xf16>
}

// -----

// An add broadcasts a bias over the rows.
// CHECK-LABEL: func.func @add_broadcast
// CHECK-SAME: (%[[X:.*]]: tensor<2x3xbf16>, %[[B:.*]]: tensor<3xbf16>)
func.func @add_broadcast(%x: tensor<2x3xbf16>, %b: tensor<3xbf16>) -> tensor<2x3xbf16> {
  // CHECK: "graph.add"(%[[X]], %[[B]]) : (tensor<2x3xbf16>, tensor<3xbf16>) -> tensor<2x3xbf16>
  %r = "graph.add"(%x, %b) : (tensor<2x3xbf16>, tensor<3xbf16>) -> tensor<2x3xbf16>
  return %r : tensor<2x3xbf16>
}

// -----

// A relu keeps its operand's type.
// CHECK-LABEL: func.func @relu
func.func @relu(%x: tensor<4x8xf32>) -> tensor<4x8xf32> {
  // CHECK: %[[R:.*]] = "graph.relu"(%{{.*}}) : (tensor<4x8xf32>) -> tensor<4x8xf32>
  // CHECK: return %[[R]]
  %r = "graph.relu"(%x) : (tensor<4x8xf32>) -> tensor<4x8xf32>
  return %r : tensor<4x8xf32>
}

// -----

// A fused subgraph is a private func.func marked graph.fused, called with func.call.
// CHECK-LABEL: func.func @caller
// CHECK: call @fused_add_relu(
func.func @caller(%x: tensor<4xf32>, %y: tensor<4xf32>) -> tensor<4xf32> {
  %r = func.call @fused_add_relu(%x, %y) : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  return %r : tensor<4xf32>
}
// CHECK-LABEL: func.func private @fused_add_relu
// CHECK-SAME: attributes {graph.fused}
func.func private @fused_add_relu(%x: tensor<4xf32>, %y: tensor<4xf32>) -> tensor<4xf32> attributes {graph.fused} {
  %s = "graph.add"(%x, %y) : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  %r = "graph.relu"(%s) : (tensor<4xf32>) -> tensor<4xf32>
  return %r : tensor<4xf32>
}

// -----

// A sub broadcasts a row vector over the rows.
// CHECK-LABEL: func.func @sub_broadcast
// CHECK-SAME: (%[[X:.*]]: tensor<2x3xf32>, %[[Y:.*]]: tensor<3xf32>)
func.func @sub_broadcast(%x: tensor<2x3xf32>, %y: tensor<3xf32>) -> tensor<2x3xf32> {
  // CHECK: %[[R:.*]] = "graph.sub"(%[[X]], %[[Y]]) : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<2x3xf32>
  // CHECK: return %[[R]]
  %r = "graph.sub"(%x, %y) : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<2x3xf32>
  return %r : tensor<2x3xf32>
}

// -----

// A mul broadcasts size-1 dimensions of both operands.
// CHECK-LABEL: func.func @mul_broadcast
// CHECK-SAME: (%[[X:.*]]: tensor<2x1x5xf16>, %[[Y:.*]]: tensor<3x1xf16>)
func.func @mul_broadcast(%x: tensor<2x1x5xf16>, %y: tensor<3x1xf16>) -> tensor<2x3x5xf16> {
  // CHECK: "graph.mul"(%[[X]], %[[Y]]) : (tensor<2x1x5xf16>, tensor<3x1xf16>) -> tensor<2x3x5xf16>
  %r = "graph.mul"(%x, %y) : (tensor<2x1x5xf16>, tensor<3x1xf16>) -> tensor<2x3x5xf16>
  return %r : tensor<2x3x5xf16>
}

// -----

// A softmax keeps its (possibly negative) axis and its operand's type.
// CHECK-LABEL: func.func @softmax
// CHECK-SAME: (%[[X:.*]]: tensor<2x3x5xf32>)
func.func @softmax(%x: tensor<2x3x5xf32>) -> (tensor<2x3x5xf32>, tensor<2x3x5xf32>) {
  // CHECK: %[[A:.*]] = "graph.softmax"(%[[X]]) {axis = -1 : i64} : (tensor<2x3x5xf32>) -> tensor<2x3x5xf32>
  // CHECK: %[[B:.*]] = "graph.softmax"(%[[X]]) {axis = 0 : i64} : (tensor<2x3x5xf32>) -> tensor<2x3x5xf32>
  // CHECK: return %[[A]], %[[B]]
  %a = "graph.softmax"(%x) {axis = -1 : i64} : (tensor<2x3x5xf32>) -> tensor<2x3x5xf32>
  %b = "graph.softmax"(%x) {axis = 0 : i64} : (tensor<2x3x5xf32>) -> tensor<2x3x5xf32>
  return %a, %b : tensor<2x3x5xf32>, tensor<2x3x5xf32>
}

// -----

// A layer_norm over the two trailing dimensions keeps its epsilon.
// CHECK-LABEL: func.func @layer_norm
// CHECK-SAME: (%[[X:.*]]: tensor<2x3x8xf32>, %[[W:.*]]: tensor<3x8xf32>, %[[B:.*]]: tensor<3x8xf32>)
func.func @layer_norm(%x: tensor<2x3x8xf32>, %w: tensor<3x8xf32>, %b: tensor<3x8xf32>) -> tensor<2x3x8xf32> {
  // CHECK: %[[R:.*]] = "graph.layer_norm"(%[[X]], %[[W]], %[[B]]) {epsilon = 1.000000e-05 : f64} : (tensor<2x3x8xf32>, tensor<3x8xf32>, tensor<3x8xf32>) -> tensor<2x3x8xf32>
  // CHECK: return %[[R]]
  %r = "graph.layer_norm"(%x, %w, %b) {epsilon = 1.0e-05 : f64} : (tensor<2x3x8xf32>, tensor<3x8xf32>, tensor<3x8xf32>) -> tensor<2x3x8xf32>
  return %r : tensor<2x3x8xf32>
}

// -----

// A strided, padded, dilated, grouped convolution round-trips with its attributes.
// CHECK-LABEL: func.func @conv2d
// CHECK: "graph.conv2d"(%{{.*}}, %{{.*}}) {dilation = array<i64: 2, 1>, groups = 2 : i64, padding = array<i64: 1, 0, 2, 1>, strides = array<i64: 2, 1>} : (tensor<1x4x16x16xf32>, tensor<6x2x3x3xf32>) -> tensor<1x6x8x15xf32>
func.func @conv2d(%x: tensor<1x4x16x16xf32>, %w: tensor<6x2x3x3xf32>) -> tensor<1x6x8x15xf32> {
  %0 = "graph.conv2d"(%x, %w) {strides = array<i64: 2, 1>, padding = array<i64: 1, 0, 2, 1>, dilation = array<i64: 2, 1>, groups = 2 : i64} : (tensor<1x4x16x16xf32>, tensor<6x2x3x3xf32>) -> tensor<1x6x8x15xf32>
  return %0 : tensor<1x6x8x15xf32>
}

// -----

// reshape and transpose round-trip.
// CHECK-LABEL: func.func @layout
// CHECK: %[[R:.*]] = "graph.reshape"(%{{.*}}) : (tensor<128x256xf32>) -> tensor<128x4x64xf32>
// CHECK: "graph.transpose"(%[[R]]) {permutation = array<i64: 1, 0, 2>} : (tensor<128x4x64xf32>) -> tensor<4x128x64xf32>
func.func @layout(%x: tensor<128x256xf32>) -> tensor<4x128x64xf32> {
  %0 = "graph.reshape"(%x) : (tensor<128x256xf32>) -> tensor<128x4x64xf32>
  %1 = "graph.transpose"(%0) {permutation = array<i64: 1, 0, 2>} : (tensor<128x4x64xf32>) -> tensor<4x128x64xf32>
  return %1 : tensor<4x128x64xf32>
}

// -----

// The elementwise math ops keep their operand's type; gelu keeps its approximation.
// CHECK-LABEL: func.func @unary_math
// CHECK-SAME: (%[[X:.*]]: tensor<2x3xf32>)
func.func @unary_math(%x: tensor<2x3xf32>) -> tensor<2x3xf32> {
  // CHECK: %[[G:.*]] = "graph.gelu"(%[[X]]) {approximate = "none"} : (tensor<2x3xf32>) -> tensor<2x3xf32>
  // CHECK: %[[GT:.*]] = "graph.gelu"(%[[G]]) {approximate = "tanh"} : (tensor<2x3xf32>) -> tensor<2x3xf32>
  // CHECK: %[[SI:.*]] = "graph.silu"(%[[GT]]) : (tensor<2x3xf32>) -> tensor<2x3xf32>
  // CHECK: %[[SG:.*]] = "graph.sigmoid"(%[[SI]]) : (tensor<2x3xf32>) -> tensor<2x3xf32>
  // CHECK: %[[T:.*]] = "graph.tanh"(%[[SG]]) : (tensor<2x3xf32>) -> tensor<2x3xf32>
  // CHECK: %[[E:.*]] = "graph.exp"(%[[T]]) : (tensor<2x3xf32>) -> tensor<2x3xf32>
  // CHECK: %[[L:.*]] = "graph.log"(%[[E]]) : (tensor<2x3xf32>) -> tensor<2x3xf32>
  // CHECK: %[[ER:.*]] = "graph.erf"(%[[L]]) : (tensor<2x3xf32>) -> tensor<2x3xf32>
  // CHECK: %[[A:.*]] = "graph.abs"(%[[ER]]) : (tensor<2x3xf32>) -> tensor<2x3xf32>
  // CHECK: %[[SQ:.*]] = "graph.sqrt"(%[[A]]) : (tensor<2x3xf32>) -> tensor<2x3xf32>
  // CHECK: %[[RS:.*]] = "graph.rsqrt"(%[[SQ]]) : (tensor<2x3xf32>) -> tensor<2x3xf32>
  // CHECK: %[[N:.*]] = "graph.neg"(%[[RS]]) : (tensor<2x3xf32>) -> tensor<2x3xf32>
  // CHECK: return %[[N]]
  %0 = "graph.gelu"(%x) {approximate = "none"} : (tensor<2x3xf32>) -> tensor<2x3xf32>
  %1 = "graph.gelu"(%0) {approximate = "tanh"} : (tensor<2x3xf32>) -> tensor<2x3xf32>
  %2 = "graph.silu"(%1) : (tensor<2x3xf32>) -> tensor<2x3xf32>
  %3 = "graph.sigmoid"(%2) : (tensor<2x3xf32>) -> tensor<2x3xf32>
  %4 = "graph.tanh"(%3) : (tensor<2x3xf32>) -> tensor<2x3xf32>
  %5 = "graph.exp"(%4) : (tensor<2x3xf32>) -> tensor<2x3xf32>
  %6 = "graph.log"(%5) : (tensor<2x3xf32>) -> tensor<2x3xf32>
  %7 = "graph.erf"(%6) : (tensor<2x3xf32>) -> tensor<2x3xf32>
  %8 = "graph.abs"(%7) : (tensor<2x3xf32>) -> tensor<2x3xf32>
  %9 = "graph.sqrt"(%8) : (tensor<2x3xf32>) -> tensor<2x3xf32>
  %10 = "graph.rsqrt"(%9) : (tensor<2x3xf32>) -> tensor<2x3xf32>
  %11 = "graph.neg"(%10) : (tensor<2x3xf32>) -> tensor<2x3xf32>
  return %11 : tensor<2x3xf32>
}

// -----

// The elementwise math ops take half-precision tensors too.
// CHECK-LABEL: func.func @unary_half
// CHECK: "graph.sigmoid"(%{{.*}}) : (tensor<4xf16>) -> tensor<4xf16>
// CHECK: "graph.gelu"(%{{.*}}) {approximate = "tanh"} : (tensor<4xbf16>) -> tensor<4xbf16>
func.func @unary_half(%x: tensor<4xf16>, %y: tensor<4xbf16>) -> (tensor<4xf16>, tensor<4xbf16>) {
  %0 = "graph.sigmoid"(%x) : (tensor<4xf16>) -> tensor<4xf16>
  %1 = "graph.gelu"(%y) {approximate = "tanh"} : (tensor<4xbf16>) -> tensor<4xbf16>
  return %0, %1 : tensor<4xf16>, tensor<4xbf16>
}

// -----

// div, pow, maximum and minimum broadcast like add.
// CHECK-LABEL: func.func @binary_math
// CHECK-SAME: (%[[X:.*]]: tensor<2x3xf32>, %[[Y:.*]]: tensor<3xf32>, %[[S:.*]]: tensor<f32>)
func.func @binary_math(%x: tensor<2x3xf32>, %y: tensor<3xf32>, %s: tensor<f32>) -> tensor<2x3xf32> {
  // CHECK: %[[D:.*]] = "graph.div"(%[[X]], %[[Y]]) : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<2x3xf32>
  // CHECK: %[[P:.*]] = "graph.pow"(%[[D]], %[[S]]) : (tensor<2x3xf32>, tensor<f32>) -> tensor<2x3xf32>
  // CHECK: %[[MX:.*]] = "graph.maximum"(%[[Y]], %[[P]]) : (tensor<3xf32>, tensor<2x3xf32>) -> tensor<2x3xf32>
  // CHECK: %[[MN:.*]] = "graph.minimum"(%[[MX]], %[[X]]) : (tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<2x3xf32>
  // CHECK: return %[[MN]]
  %0 = "graph.div"(%x, %y) : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<2x3xf32>
  %1 = "graph.pow"(%0, %s) : (tensor<2x3xf32>, tensor<f32>) -> tensor<2x3xf32>
  %2 = "graph.maximum"(%y, %1) : (tensor<3xf32>, tensor<2x3xf32>) -> tensor<2x3xf32>
  %3 = "graph.minimum"(%2, %x) : (tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<2x3xf32>
  return %3 : tensor<2x3xf32>
}

// -----

// A log_softmax keeps its (possibly negative) axis.
// CHECK-LABEL: func.func @log_softmax
// CHECK: "graph.log_softmax"(%{{.*}}) {axis = -2 : i64} : (tensor<2x3x5xf32>) -> tensor<2x3x5xf32>
func.func @log_softmax(%x: tensor<2x3x5xf32>) -> tensor<2x3x5xf32> {
  %0 = "graph.log_softmax"(%x) {axis = -2 : i64} : (tensor<2x3x5xf32>) -> tensor<2x3x5xf32>
  return %0 : tensor<2x3x5xf32>
}

// -----

// A batch_norm takes per-channel weight, bias, mean and var, and keeps its epsilon.
// CHECK-LABEL: func.func @batch_norm
// CHECK-SAME: (%[[X:.*]]: tensor<2x4x5x5xf32>, %[[W:.*]]: tensor<4xf32>, %[[B:.*]]: tensor<4xf32>, %[[M:.*]]: tensor<4xf32>, %[[V:.*]]: tensor<4xf32>)
func.func @batch_norm(%x: tensor<2x4x5x5xf32>, %w: tensor<4xf32>, %b: tensor<4xf32>, %m: tensor<4xf32>, %v: tensor<4xf32>) -> tensor<2x4x5x5xf32> {
  // CHECK: "graph.batch_norm"(%[[X]], %[[W]], %[[B]], %[[M]], %[[V]]) {epsilon = 1.000000e-03 : f64} : (tensor<2x4x5x5xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>) -> tensor<2x4x5x5xf32>
  %0 = "graph.batch_norm"(%x, %w, %b, %m, %v) {epsilon = 1.0e-03 : f64} : (tensor<2x4x5x5xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>) -> tensor<2x4x5x5xf32>
  return %0 : tensor<2x4x5x5xf32>
}

// -----

// Reductions drop their axes, or keep them as size 1 with keepdim; negative axes count from the end.
// CHECK-LABEL: func.func @reductions
func.func @reductions(%x: tensor<2x3x5xf32>) -> (tensor<2xf32>, tensor<2x3x1xf32>, tensor<f32>) {
  // CHECK: "graph.reduce_sum"(%{{.*}}) {axes = array<i64: 1, -1>, keepdim = false} : (tensor<2x3x5xf32>) -> tensor<2xf32>
  // CHECK: "graph.reduce_mean"(%{{.*}}) {axes = array<i64: 2>, keepdim = true} : (tensor<2x3x5xf32>) -> tensor<2x3x1xf32>
  // CHECK: "graph.reduce_max"(%{{.*}}) {axes = array<i64: 0, 1, 2>, keepdim = false} : (tensor<2x3x5xf32>) -> tensor<f32>
  %0 = "graph.reduce_sum"(%x) {axes = array<i64: 1, -1>, keepdim = false} : (tensor<2x3x5xf32>) -> tensor<2xf32>
  %1 = "graph.reduce_mean"(%x) {axes = array<i64: 2>, keepdim = true} : (tensor<2x3x5xf32>) -> tensor<2x3x1xf32>
  %2 = "graph.reduce_max"(%x) {axes = array<i64: 0, 1, 2>, keepdim = false} : (tensor<2x3x5xf32>) -> tensor<f32>
  return %0, %1, %2 : tensor<2xf32>, tensor<2x3x1xf32>, tensor<f32>
}

// -----

// A padded, strided, dilated max pool round-trips with its attributes.
// CHECK-LABEL: func.func @max_pool2d
// CHECK: "graph.max_pool2d"(%{{.*}}) {dilation = array<i64: 2, 1>, kernel = array<i64: 3, 3>, padding = array<i64: 1, 1, 1, 1>, strides = array<i64: 2, 2>} : (tensor<1x64x112x112xf32>) -> tensor<1x64x55x56xf32>
func.func @max_pool2d(%x: tensor<1x64x112x112xf32>) -> tensor<1x64x55x56xf32> {
  %0 = "graph.max_pool2d"(%x) {kernel = array<i64: 3, 3>, strides = array<i64: 2, 2>, padding = array<i64: 1, 1, 1, 1>, dilation = array<i64: 2, 1>} : (tensor<1x64x112x112xf32>) -> tensor<1x64x55x56xf32>
  return %0 : tensor<1x64x55x56xf32>
}

// -----

// An average pool keeps count_include_pad.
// CHECK-LABEL: func.func @avg_pool2d
// CHECK: "graph.avg_pool2d"(%{{.*}}) {count_include_pad = false, kernel = array<i64: 3, 2>, padding = array<i64: 1, 0, 0, 1>, strides = array<i64: 1, 2>} : (tensor<2x3x8x9xf32>) -> tensor<2x3x7x5xf32>
func.func @avg_pool2d(%x: tensor<2x3x8x9xf32>) -> tensor<2x3x7x5xf32> {
  %0 = "graph.avg_pool2d"(%x) {kernel = array<i64: 3, 2>, strides = array<i64: 1, 2>, padding = array<i64: 1, 0, 0, 1>, count_include_pad = false} : (tensor<2x3x8x9xf32>) -> tensor<2x3x7x5xf32>
  return %0 : tensor<2x3x7x5xf32>
}

// -----

// An adaptive average pool takes its output size from the result type, larger than the input too.
// CHECK-LABEL: func.func @adaptive_avg_pool2d
// CHECK: "graph.adaptive_avg_pool2d"(%{{.*}}) : (tensor<1x512x7x7xf32>) -> tensor<1x512x1x1xf32>
// CHECK: "graph.adaptive_avg_pool2d"(%{{.*}}) : (tensor<1x512x7x7xf32>) -> tensor<1x512x3x9xf32>
func.func @adaptive_avg_pool2d(%x: tensor<1x512x7x7xf32>) -> (tensor<1x512x1x1xf32>, tensor<1x512x3x9xf32>) {
  %0 = "graph.adaptive_avg_pool2d"(%x) : (tensor<1x512x7x7xf32>) -> tensor<1x512x1x1xf32>
  %1 = "graph.adaptive_avg_pool2d"(%x) : (tensor<1x512x7x7xf32>) -> tensor<1x512x3x9xf32>
  return %0, %1 : tensor<1x512x1x1xf32>, tensor<1x512x3x9xf32>
}

// -----

// A strided slice; sizes give the result shape.
// CHECK-LABEL: func.func @slice
// CHECK: "graph.slice"(%{{.*}}) {offsets = array<i64: 1, 0, 2>, sizes = array<i64: 1, 3, 2>, strides = array<i64: 1, 2, 3>} : (tensor<2x6x8xf32>) -> tensor<1x3x2xf32>
func.func @slice(%x: tensor<2x6x8xf32>) -> tensor<1x3x2xf32> {
  %0 = "graph.slice"(%x) {offsets = array<i64: 1, 0, 2>, sizes = array<i64: 1, 3, 2>, strides = array<i64: 1, 2, 3>} : (tensor<2x6x8xf32>) -> tensor<1x3x2xf32>
  return %0 : tensor<1x3x2xf32>
}

// -----

// A three-way concatenation is a chain of binary concats; the axis may be negative.
// CHECK-LABEL: func.func @concat
// CHECK: %[[C:.*]] = "graph.concat"(%{{.*}}, %{{.*}}) {axis = 1 : i64} : (tensor<2x3x4xf32>, tensor<2x1x4xf32>) -> tensor<2x4x4xf32>
// CHECK: "graph.concat"(%[[C]], %{{.*}}) {axis = -2 : i64} : (tensor<2x4x4xf32>, tensor<2x3x4xf32>) -> tensor<2x7x4xf32>
func.func @concat(%x: tensor<2x3x4xf32>, %y: tensor<2x1x4xf32>) -> tensor<2x7x4xf32> {
  %0 = "graph.concat"(%x, %y) {axis = 1 : i64} : (tensor<2x3x4xf32>, tensor<2x1x4xf32>) -> tensor<2x4x4xf32>
  %1 = "graph.concat"(%0, %x) {axis = -2 : i64} : (tensor<2x4x4xf32>, tensor<2x3x4xf32>) -> tensor<2x7x4xf32>
  return %1 : tensor<2x7x4xf32>
}

// -----

// broadcast_to takes its shape from the result type, adding leading dimensions.
// CHECK-LABEL: func.func @broadcast_to
// CHECK: "graph.broadcast_to"(%{{.*}}) : (tensor<3x1xf32>) -> tensor<2x3x5xf32>
// CHECK: "graph.broadcast_to"(%{{.*}}) : (tensor<f32>) -> tensor<4xf32>
func.func @broadcast_to(%x: tensor<3x1xf32>, %s: tensor<f32>) -> (tensor<2x3x5xf32>, tensor<4xf32>) {
  %0 = "graph.broadcast_to"(%x) : (tensor<3x1xf32>) -> tensor<2x3x5xf32>
  %1 = "graph.broadcast_to"(%s) : (tensor<f32>) -> tensor<4xf32>
  return %0, %1 : tensor<2x3x5xf32>, tensor<4xf32>
}

// -----

// A gather with i64 ids along axis 0 is an embedding lookup; i32 indices work along any axis.
// CHECK-LABEL: func.func @gather
// CHECK: "graph.gather"(%{{.*}}, %{{.*}}) {axis = 0 : i64} : (tensor<100x16xf32>, tensor<2x7xi64>) -> tensor<2x7x16xf32>
// CHECK: "graph.gather"(%{{.*}}, %{{.*}}) {axis = -1 : i64} : (tensor<100x16xf32>, tensor<3xi32>) -> tensor<100x3xf32>
func.func @gather(%w: tensor<100x16xf32>, %ids: tensor<2x7xi64>, %cols: tensor<3xi32>) -> (tensor<2x7x16xf32>, tensor<100x3xf32>) {
  %0 = "graph.gather"(%w, %ids) {axis = 0 : i64} : (tensor<100x16xf32>, tensor<2x7xi64>) -> tensor<2x7x16xf32>
  %1 = "graph.gather"(%w, %cols) {axis = -1 : i64} : (tensor<100x16xf32>, tensor<3xi32>) -> tensor<100x3xf32>
  return %0, %1 : tensor<2x7x16xf32>, tensor<100x3xf32>
}
