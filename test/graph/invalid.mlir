// RUN: strata-opt %s --split-input-file --verify-diagnostics

// IRDL accepts any tensor, but graph ops work on floating-point elements only.
func.func @matmul_i32(%a: tensor<2x4xi32>, %b: tensor<4x3xi32>) -> tensor<2x3xi32> {
  // expected-error@+1 {{lhs must have element type f32, f16 or bf16, found i32}}
  %r = "graph.matmul"(%a, %b) : (tensor<2x4xi32>, tensor<4x3xi32>) -> tensor<2x3xi32>
  return %r : tensor<2x3xi32>
}

// -----

// Shapes must be static.
func.func @relu_dynamic(%x: tensor<?x8xf32>) -> tensor<?x8xf32> {
  // expected-error@+1 {{input must have a static shape, found tensor<?x8xf32>}}
  %r = "graph.relu"(%x) : (tensor<?x8xf32>) -> tensor<?x8xf32>
  return %r : tensor<?x8xf32>
}

// -----

// Unranked tensors are rejected by IRDL's base-type check.
func.func @relu_unranked(%x: tensor<*xf32>) -> tensor<*xf32> {
  // expected-error@+1 {{expected base type 'builtin.tensor' but got 'builtin.unranked_tensor'}}
  %r = "graph.relu"(%x) : (tensor<*xf32>) -> tensor<*xf32>
  return %r : tensor<*xf32>
}

// -----

// The lhs columns must equal the rhs rows.
func.func @matmul_contracting(%a: tensor<2x4xf32>, %b: tensor<5x3xf32>) -> tensor<2x3xf32> {
  // expected-error@+1 {{contracting dimensions differ: lhs 2x4 has 4 columns but rhs 5x3 has 5 rows}}
  %r = "graph.matmul"(%a, %b) : (tensor<2x4xf32>, tensor<5x3xf32>) -> tensor<2x3xf32>
  return %r : tensor<2x3xf32>
}

// -----

// Batch dimensions must broadcast.
func.func @matmul_batch(%a: tensor<2x3x4xf32>, %b: tensor<5x4x6xf32>) -> tensor<2x3x6xf32> {
  // expected-error@+1 {{matmul batch dimensions: shapes 2 and 5 do not broadcast: dimension 0 is 2 vs 5}}
  %r = "graph.matmul"(%a, %b) : (tensor<2x3x4xf32>, tensor<5x4x6xf32>) -> tensor<2x3x6xf32>
  return %r : tensor<2x3x6xf32>
}

// -----

// A matmul of a rank-0 tensor is rejected.
func.func @matmul_scalar(%a: tensor<f32>, %b: tensor<4xf32>) -> tensor<4xf32> {
  // expected-error@+1 {{matmul operands must have rank >= 1, not scalars}}
  %r = "graph.matmul"(%a, %b) : (tensor<f32>, tensor<4xf32>) -> tensor<4xf32>
  return %r : tensor<4xf32>
}

// -----

// Add operands must broadcast (numpy rules).
func.func @add_broadcast(%x: tensor<2x3xf32>, %b: tensor<4xf32>) -> tensor<2x3xf32> {
  // expected-error@+1 {{shapes 2x3 and 4 do not broadcast: dimension 1 is 3 vs 4}}
  %r = "graph.add"(%x, %b) : (tensor<2x3xf32>, tensor<4xf32>) -> tensor<2x3xf32>
  return %r : tensor<2x3xf32>
}

// -----

// Add operands must have the same element type.
func.func @add_mixed(%x: tensor<3xf32>, %y: tensor<3xf16>) -> tensor<3xf32> {
  // expected-error@+1 {{operand element types differ: f32 vs f16}}
  %r = "graph.add"(%x, %y) : (tensor<3xf32>, tensor<3xf16>) -> tensor<3xf32>
  return %r : tensor<3xf32>
}

// -----

// The result type must be the inferred one.
func.func @matmul_result(%a: tensor<2x4xf32>, %b: tensor<4x3xf32>) -> tensor<3x2xf32> {
  // expected-error@+1 {{result type should be tensor<2x3xf32>, found tensor<3x2xf32>}}
  %r = "graph.matmul"(%a, %b) : (tensor<2x4xf32>, tensor<4x3xf32>) -> tensor<3x2xf32>
  return %r : tensor<3x2xf32>
}

// -----

// A relu keeps its element type.
func.func @relu_result(%x: tensor<4xf32>) -> tensor<4xf16> {
  // expected-error@+1 {{result type should be tensor<4xf32>, found tensor<4xf16>}}
  %r = "graph.relu"(%x) : (tensor<4xf32>) -> tensor<4xf16>
  return %r : tensor<4xf16>
}

// -----

// A rank-0 result is spelled tensor<f32>.
func.func @matmul_vector_result(%a: tensor<4xf32>, %b: tensor<4xf32>) -> tensor<1xf32> {
  // expected-error@+1 {{result type should be tensor<f32>, found tensor<1xf32>}}
  %r = "graph.matmul"(%a, %b) : (tensor<4xf32>, tensor<4xf32>) -> tensor<1xf32>
  return %r : tensor<1xf32>
}

// -----

// A constant's value must have the result type.
func.func @constant_type() -> tensor<3xf32> {
  // expected-error@+1 {{'value' has type tensor<2xf32> but the result is tensor<3xf32>}}
  %c = "graph.constant"() {value = dense<[1.0, 2.0]> : tensor<2xf32>} : () -> tensor<3xf32>
  return %c : tensor<3xf32>
}

// -----

// A constant's value must be an elements attribute.
func.func @constant_scalar() -> tensor<1xf32> {
  // expected-error@+1 {{'value' must be a dense or dense_resource elements attribute, found 1.000000e+00 : f32}}
  %c = "graph.constant"() {value = 1.0 : f32} : () -> tensor<1xf32>
  return %c : tensor<1xf32>
}

// -----

// graph ops take tensors, not scalars (IRDL's base-type check).
func.func @relu_scalar(%x: f32) {
  // expected-error@+1 {{expected base type 'builtin.tensor'}}
  %r = "graph.relu"(%x) : (f32) -> f32
  return
}

// -----

// A matmul operand that is a memref is rejected by IRDL.
func.func @matmul_memref(%a: memref<2x4xf32>, %b: tensor<4x3xf32>) {
  // expected-error@+1 {{expected base type 'builtin.tensor' but got 'builtin.memref'}}
  %r = "graph.matmul"(%a, %b) : (memref<2x4xf32>, tensor<4x3xf32>) -> tensor<2x3xf32>
  return
}

// -----

// Sub operands must broadcast (numpy rules).
func.func @sub_broadcast(%x: tensor<2x3xf32>, %y: tensor<4xf32>) -> tensor<2x3xf32> {
  // expected-error@+1 {{shapes 2x3 and 4 do not broadcast: dimension 1 is 3 vs 4}}
  %r = "graph.sub"(%x, %y) : (tensor<2x3xf32>, tensor<4xf32>) -> tensor<2x3xf32>
  return %r : tensor<2x3xf32>
}

// -----

// Mul operands must broadcast (numpy rules).
func.func @mul_broadcast(%x: tensor<2x3x4xf32>, %y: tensor<5x1xf32>) -> tensor<2x3x4xf32> {
  // expected-error@+1 {{shapes 2x3x4 and 5x1 do not broadcast: dimension 1 is 3 vs 5}}
  %r = "graph.mul"(%x, %y) : (tensor<2x3x4xf32>, tensor<5x1xf32>) -> tensor<2x3x4xf32>
  return %r : tensor<2x3x4xf32>
}

// -----

// A mul result must have the broadcast shape.
func.func @mul_result(%x: tensor<4x1xf32>, %y: tensor<3xf32>) -> tensor<4x1xf32> {
  // expected-error@+1 {{result type should be tensor<4x3xf32>, found tensor<4x1xf32>}}
  %r = "graph.mul"(%x, %y) : (tensor<4x1xf32>, tensor<3xf32>) -> tensor<4x1xf32>
  return %r : tensor<4x1xf32>
}

// -----

// A softmax axis must name a dimension of the input.
func.func @softmax_axis(%x: tensor<4x10xf32>) -> tensor<4x10xf32> {
  // expected-error@+1 {{axis 2 is out of range for rank 2}}
  %r = "graph.softmax"(%x) {axis = 2 : i64} : (tensor<4x10xf32>) -> tensor<4x10xf32>
  return %r : tensor<4x10xf32>
}

// -----

// A negative softmax axis counts from the end, down to -rank.
func.func @softmax_negative_axis(%x: tensor<4x10xf32>) -> tensor<4x10xf32> {
  // expected-error@+1 {{axis -3 is out of range for rank 2}}
  %r = "graph.softmax"(%x) {axis = -3 : i64} : (tensor<4x10xf32>) -> tensor<4x10xf32>
  return %r : tensor<4x10xf32>
}

// -----

// A softmax needs its axis attribute (IRDL).
func.func @softmax_no_axis(%x: tensor<4x10xf32>) -> tensor<4x10xf32> {
  // expected-error@+1 {{'graph.softmax' op attribute "axis" is expected but not provided}}
  %r = "graph.softmax"(%x) : (tensor<4x10xf32>) -> tensor<4x10xf32>
  return %r : tensor<4x10xf32>
}

// -----

// A softmax keeps its operand's type.
func.func @softmax_result(%x: tensor<4x10xf32>) -> tensor<4x10xf16> {
  // expected-error@+1 {{result type should be tensor<4x10xf32>, found tensor<4x10xf16>}}
  %r = "graph.softmax"(%x) {axis = 1 : i64} : (tensor<4x10xf32>) -> tensor<4x10xf16>
  return %r : tensor<4x10xf16>
}

// -----

// layer_norm weight and bias must be the trailing dimensions of the input.
func.func @layer_norm_weight(%x: tensor<2x16xf32>, %w: tensor<8xf32>, %b: tensor<8xf32>) -> tensor<2x16xf32> {
  // expected-error@+1 {{layer_norm weight 8 and bias 8 must equal the trailing dimensions of the input 2x16}}
  %r = "graph.layer_norm"(%x, %w, %b) {epsilon = 1.0e-05 : f64} : (tensor<2x16xf32>, tensor<8xf32>, tensor<8xf32>) -> tensor<2x16xf32>
  return %r : tensor<2x16xf32>
}

// -----

// layer_norm bias must have the weight's shape.
func.func @layer_norm_bias(%x: tensor<2x3x8xf32>, %w: tensor<3x8xf32>, %b: tensor<8xf32>) -> tensor<2x3x8xf32> {
  // expected-error@+1 {{layer_norm weight 3x8 and bias 8 must equal the trailing dimensions of the input 2x3x8}}
  %r = "graph.layer_norm"(%x, %w, %b) {epsilon = 1.0e-05 : f64} : (tensor<2x3x8xf32>, tensor<3x8xf32>, tensor<8xf32>) -> tensor<2x3x8xf32>
  return %r : tensor<2x3x8xf32>
}

// -----

// layer_norm operands must share the input's element type.
func.func @layer_norm_mixed(%x: tensor<2x16xf32>, %w: tensor<16xf16>, %b: tensor<16xf16>) -> tensor<2x16xf32> {
  // expected-error@+1 {{operand element types differ: f32 vs f16}}
  %r = "graph.layer_norm"(%x, %w, %b) {epsilon = 1.0e-05 : f64} : (tensor<2x16xf32>, tensor<16xf16>, tensor<16xf16>) -> tensor<2x16xf32>
  return %r : tensor<2x16xf32>
}

// -----

// A layer_norm needs its epsilon attribute (IRDL).
func.func @layer_norm_no_epsilon(%x: tensor<2x16xf32>, %w: tensor<16xf32>, %b: tensor<16xf32>) -> tensor<2x16xf32> {
  // expected-error@+1 {{'graph.layer_norm' op attribute "epsilon" is expected but not provided}}
  %r = "graph.layer_norm"(%x, %w, %b) : (tensor<2x16xf32>, tensor<16xf32>, tensor<16xf32>) -> tensor<2x16xf32>
  return %r : tensor<2x16xf32>
}

// -----

// conv2d weight channels must match the input channels per group.
func.func @conv2d_channels(%x: tensor<1x3x8x8xf32>, %w: tensor<4x2x3x3xf32>) {
  // expected-error@+1 {{weight has 2 input channels per group but the input has 3 / 1 = 3}}
  %0 = "graph.conv2d"(%x, %w) {strides = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>, dilation = array<i64: 1, 1>, groups = 1 : i64} : (tensor<1x3x8x8xf32>, tensor<4x2x3x3xf32>) -> tensor<1x4x6x6xf32>
  return
}

// -----

// conv2d groups must divide the channels.
func.func @conv2d_groups(%x: tensor<1x4x8x8xf32>, %w: tensor<6x2x3x3xf32>) {
  // expected-error@+1 {{groups 4 must divide the 4 input and 6 output channels}}
  %0 = "graph.conv2d"(%x, %w) {strides = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>, dilation = array<i64: 1, 1>, groups = 4 : i64} : (tensor<1x4x8x8xf32>, tensor<6x2x3x3xf32>) -> tensor<1x6x6x6xf32>
  return
}

// -----

// conv2d needs four paddings.
func.func @conv2d_padding(%x: tensor<1x3x8x8xf32>, %w: tensor<4x3x3x3xf32>) {
  // expected-error@+1 {{conv2d needs 2 strides, 2 dilations and 4 paddings (top, left, bottom, right)}}
  %0 = "graph.conv2d"(%x, %w) {strides = array<i64: 1, 1>, padding = array<i64: 1, 1>, dilation = array<i64: 1, 1>, groups = 1 : i64} : (tensor<1x3x8x8xf32>, tensor<4x3x3x3xf32>) -> tensor<1x4x8x8xf32>
  return
}

// -----

// conv2d result type must be the inferred one.
func.func @conv2d_result(%x: tensor<1x3x8x8xf32>, %w: tensor<4x3x3x3xf32>) {
  // expected-error@+1 {{result type should be tensor<1x4x6x6xf32>, found tensor<1x4x8x8xf32>}}
  %0 = "graph.conv2d"(%x, %w) {strides = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>, dilation = array<i64: 1, 1>, groups = 1 : i64} : (tensor<1x3x8x8xf32>, tensor<4x3x3x3xf32>) -> tensor<1x4x8x8xf32>
  return
}

// -----

// conv2d attributes have fixed kinds.
func.func @conv2d_groups_kind(%x: tensor<1x3x8x8xf32>, %w: tensor<4x3x3x3xf32>) {
  // expected-error@+1 {{expected base attribute 'builtin.integer' but got 'builtin.string'}}
  %0 = "graph.conv2d"(%x, %w) {strides = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>, dilation = array<i64: 1, 1>, groups = "one"} : (tensor<1x3x8x8xf32>, tensor<4x3x3x3xf32>) -> tensor<1x4x6x6xf32>
  return
}

// -----

// A reshape keeps the number of elements.
func.func @reshape_count(%x: tensor<2x3xf32>) {
  // expected-error@+1 {{reshape from 2x3 (6 elements) to 4x2 (8 elements) changes the number of elements}}
  %0 = "graph.reshape"(%x) : (tensor<2x3xf32>) -> tensor<4x2xf32>
  return
}

// -----

// A transpose takes a permutation of the dimensions.
func.func @transpose_permutation(%x: tensor<2x3xf32>) {
  // expected-error@+1 {{permutation [0, 0] is not a permutation of the 2 dimensions}}
  %0 = "graph.transpose"(%x) {permutation = array<i64: 0, 0>} : (tensor<2x3xf32>) -> tensor<2x2xf32>
  return
}

// -----

// A transpose's result type is the permuted input type.
func.func @transpose_result(%x: tensor<2x3xf32>) {
  // expected-error@+1 {{result type should be tensor<3x2xf32>, found tensor<2x3xf32>}}
  %0 = "graph.transpose"(%x) {permutation = array<i64: 1, 0>} : (tensor<2x3xf32>) -> tensor<2x3xf32>
  return
}
