// RUN: strata-opt %s --split-input-file --verify-diagnostics

// IRDL accepts any tensor, but graph ops work on floating-point elements (and matmul on i8).
func.func @matmul_i32(%a: tensor<2x4xi32>, %b: tensor<4x3xi32>) -> tensor<2x3xi32> {
  // expected-error@+1 {{lhs must have element type f32, f16, bf16 or i8, found i32}}
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

// -----

// gelu's approximation is "none" or "tanh".
func.func @gelu_approximate(%x: tensor<4xf32>) {
  // expected-error@+1 {{'approximate' must be "none" or "tanh", found "fast"}}
  %0 = "graph.gelu"(%x) {approximate = "fast"} : (tensor<4xf32>) -> tensor<4xf32>
  return
}

// -----

// gelu needs its approximate attribute (IRDL).
func.func @gelu_no_approximate(%x: tensor<4xf32>) {
  // expected-error@+1 {{'graph.gelu' op attribute "approximate" is expected but not provided}}
  %0 = "graph.gelu"(%x) : (tensor<4xf32>) -> tensor<4xf32>
  return
}

// -----

// gelu's approximation is a string (IRDL).
func.func @gelu_approximate_kind(%x: tensor<4xf32>) {
  // expected-error@+1 {{expected base attribute 'builtin.string' but got 'builtin.integer'}}
  %0 = "graph.gelu"(%x) {approximate = 0 : i64} : (tensor<4xf32>) -> tensor<4xf32>
  return
}

// -----

// silu works on floating-point elements only.
func.func @silu_i32(%x: tensor<4xi32>) {
  // expected-error@+1 {{input must have element type f32, f16 or bf16, found i32}}
  %0 = "graph.silu"(%x) : (tensor<4xi32>) -> tensor<4xi32>
  return
}

// -----

// sigmoid keeps its element type.
func.func @sigmoid_result(%x: tensor<4xf32>) {
  // expected-error@+1 {{result type should be tensor<4xf32>, found tensor<4xf16>}}
  %0 = "graph.sigmoid"(%x) : (tensor<4xf32>) -> tensor<4xf16>
  return
}

// -----

// tanh needs a static shape.
func.func @tanh_dynamic(%x: tensor<?xf32>) {
  // expected-error@+1 {{input must have a static shape, found tensor<?xf32>}}
  %0 = "graph.tanh"(%x) : (tensor<?xf32>) -> tensor<?xf32>
  return
}

// -----

// exp keeps its shape.
func.func @exp_result(%x: tensor<2x3xf32>) {
  // expected-error@+1 {{result type should be tensor<2x3xf32>, found tensor<3x2xf32>}}
  %0 = "graph.exp"(%x) : (tensor<2x3xf32>) -> tensor<3x2xf32>
  return
}

// -----

// log works on floating-point elements only.
func.func @log_i64(%x: tensor<4xi64>) {
  // expected-error@+1 {{input must have element type f32, f16 or bf16, found i64}}
  %0 = "graph.log"(%x) : (tensor<4xi64>) -> tensor<4xi64>
  return
}

// -----

// erf's result must have a static shape.
func.func @erf_dynamic_result(%x: tensor<4xf32>) {
  // expected-error@+1 {{result must have a static shape, found tensor<?xf32>}}
  %0 = "graph.erf"(%x) : (tensor<4xf32>) -> tensor<?xf32>
  return
}

// -----

// f64 is not a graph element type.
func.func @sqrt_f64(%x: tensor<4xf64>) {
  // expected-error@+1 {{input must have element type f32, f16 or bf16, found f64}}
  %0 = "graph.sqrt"(%x) : (tensor<4xf64>) -> tensor<4xf64>
  return
}

// -----

// rsqrt's result must be a floating-point tensor.
func.func @rsqrt_result_i32(%x: tensor<4xf32>) {
  // expected-error@+1 {{result must have element type f32, f16 or bf16, found i32}}
  %0 = "graph.rsqrt"(%x) : (tensor<4xf32>) -> tensor<4xi32>
  return
}

// -----

// neg keeps its operand's type.
func.func @neg_result(%x: tensor<4xbf16>) {
  // expected-error@+1 {{result type should be tensor<4xbf16>, found tensor<4xf32>}}
  %0 = "graph.neg"(%x) : (tensor<4xbf16>) -> tensor<4xf32>
  return
}

// -----

// abs takes a tensor (IRDL).
func.func @abs_scalar(%x: f32) {
  // expected-error@+1 {{expected base type 'builtin.tensor' but got 'builtin.f32'}}
  %0 = "graph.abs"(%x) : (f32) -> f32
  return
}

// -----

// div operands must broadcast.
func.func @div_broadcast(%x: tensor<2x3xf32>, %y: tensor<4xf32>) {
  // expected-error@+1 {{shapes 2x3 and 4 do not broadcast: dimension 1 is 3 vs 4}}
  %0 = "graph.div"(%x, %y) : (tensor<2x3xf32>, tensor<4xf32>) -> tensor<2x3xf32>
  return
}

// -----

// pow operands must have the same element type.
func.func @pow_mixed(%x: tensor<3xf32>, %y: tensor<3xf16>) {
  // expected-error@+1 {{operand element types differ: f32 vs f16}}
  %0 = "graph.pow"(%x, %y) : (tensor<3xf32>, tensor<3xf16>) -> tensor<3xf32>
  return
}

// -----

// maximum's result has the broadcast shape.
func.func @maximum_result(%x: tensor<4x1xf32>, %y: tensor<3xf32>) {
  // expected-error@+1 {{result type should be tensor<4x3xf32>, found tensor<4x1xf32>}}
  %0 = "graph.maximum"(%x, %y) : (tensor<4x1xf32>, tensor<3xf32>) -> tensor<4x1xf32>
  return
}

// -----

// minimum works on floating-point elements only.
func.func @minimum_i32(%x: tensor<3xf32>, %y: tensor<3xi32>) {
  // expected-error@+1 {{rhs must have element type f32, f16 or bf16, found i32}}
  %0 = "graph.minimum"(%x, %y) : (tensor<3xf32>, tensor<3xi32>) -> tensor<3xf32>
  return
}

// -----

// A log_softmax axis must name a dimension of the input.
func.func @log_softmax_axis(%x: tensor<2x3x5xf32>) {
  // expected-error@+1 {{axis -4 is out of range for rank 3}}
  %0 = "graph.log_softmax"(%x) {axis = -4 : i64} : (tensor<2x3x5xf32>) -> tensor<2x3x5xf32>
  return
}

// -----

// A log_softmax keeps its operand's type.
func.func @log_softmax_result(%x: tensor<2x5xf32>) {
  // expected-error@+1 {{result type should be tensor<2x5xf32>, found tensor<2x1xf32>}}
  %0 = "graph.log_softmax"(%x) {axis = 1 : i64} : (tensor<2x5xf32>) -> tensor<2x1xf32>
  return
}

// -----

// batch_norm needs a channel dimension.
func.func @batch_norm_rank(%x: tensor<4xf32>, %p: tensor<4xf32>) {
  // expected-error@+1 {{batch_norm takes an N x C x ... input, got 4}}
  %0 = "graph.batch_norm"(%x, %p, %p, %p, %p) {epsilon = 1.0e-05 : f64} : (tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  return
}

// -----

// batch_norm statistics have one value per channel (dimension 1).
func.func @batch_norm_channels(%x: tensor<2x3x4xf32>, %w: tensor<3xf32>, %m: tensor<4xf32>) {
  // expected-error@+1 {{batch_norm weight, bias, mean and var must have shape 3 (the channels of the input 2x3x4), found 4}}
  %0 = "graph.batch_norm"(%x, %w, %w, %m, %w) {epsilon = 1.0e-05 : f64} : (tensor<2x3x4xf32>, tensor<3xf32>, tensor<3xf32>, tensor<4xf32>, tensor<3xf32>) -> tensor<2x3x4xf32>
  return
}

// -----

// batch_norm operands share the input's element type.
func.func @batch_norm_mixed(%x: tensor<2x3xf32>, %w: tensor<3xf32>, %v: tensor<3xf16>) {
  // expected-error@+1 {{operand element types differ: f32 vs f16}}
  %0 = "graph.batch_norm"(%x, %w, %w, %w, %v) {epsilon = 1.0e-05 : f64} : (tensor<2x3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf16>) -> tensor<2x3xf32>
  return
}

// -----

// batch_norm statistics are floating-point tensors; the error names the operand.
func.func @batch_norm_var_i32(%x: tensor<2x3xf32>, %w: tensor<3xf32>, %v: tensor<3xi32>) {
  // expected-error@+1 {{var must have element type f32, f16 or bf16, found i32}}
  %0 = "graph.batch_norm"(%x, %w, %w, %w, %v) {epsilon = 1.0e-05 : f64} : (tensor<2x3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xi32>) -> tensor<2x3xf32>
  return
}

// -----

// batch_norm keeps its input's type.
func.func @batch_norm_result(%x: tensor<2x3xf32>, %w: tensor<3xf32>) {
  // expected-error@+1 {{result type should be tensor<2x3xf32>, found tensor<2x3xf16>}}
  %0 = "graph.batch_norm"(%x, %w, %w, %w, %w) {epsilon = 1.0e-05 : f64} : (tensor<2x3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>) -> tensor<2x3xf16>
  return
}

// -----

// batch_norm needs its epsilon attribute (IRDL).
func.func @batch_norm_no_epsilon(%x: tensor<2x3xf32>, %w: tensor<3xf32>) {
  // expected-error@+1 {{'graph.batch_norm' op attribute "epsilon" is expected but not provided}}
  %0 = "graph.batch_norm"(%x, %w, %w, %w, %w) : (tensor<2x3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>) -> tensor<2x3xf32>
  return
}

// -----

// Reduction axes must name dimensions of the input.
func.func @reduce_sum_axis(%x: tensor<2x3xf32>) {
  // expected-error@+1 {{axis 2 is out of range for rank 2}}
  %0 = "graph.reduce_sum"(%x) {axes = array<i64: 2>, keepdim = false} : (tensor<2x3xf32>) -> tensor<2xf32>
  return
}

// -----

// Reduction axes name each dimension once (negative axes count from the end).
func.func @reduce_mean_repeated(%x: tensor<2x3xf32>) {
  // expected-error@+1 {{reduction axes [1, -1] repeat a dimension}}
  %0 = "graph.reduce_mean"(%x) {axes = array<i64: 1, -1>, keepdim = false} : (tensor<2x3xf32>) -> tensor<2xf32>
  return
}

// -----

// With keepdim, the reduced dimensions stay as size 1.
func.func @reduce_max_keepdim(%x: tensor<2x3xf32>) {
  // expected-error@+1 {{result type should be tensor<2x1xf32>, found tensor<2xf32>}}
  %0 = "graph.reduce_max"(%x) {axes = array<i64: 1>, keepdim = true} : (tensor<2x3xf32>) -> tensor<2xf32>
  return
}

// -----

// keepdim is a bool, not any integer.
func.func @reduce_sum_keepdim_kind(%x: tensor<2x3xf32>) {
  // expected-error@+1 {{malformed attribute: Cannot cast attribute to BoolAttr (from Attribute(0 : i64))}}
  %0 = "graph.reduce_sum"(%x) {axes = array<i64: 1>, keepdim = 0 : i64} : (tensor<2x3xf32>) -> tensor<2xf32>
  return
}

// -----

// Reduction axes are an array<i64>.
func.func @reduce_mean_axes_i32(%x: tensor<2x3xf32>) {
  // expected-error@+1 {{malformed attribute: Cannot cast attribute to DenseI64ArrayAttr (from Attribute(array<i32: 1>))}}
  %0 = "graph.reduce_mean"(%x) {axes = array<i32: 1>, keepdim = false} : (tensor<2x3xf32>) -> tensor<2xf32>
  return
}

// -----

// Pooling takes NCHW inputs.
func.func @max_pool2d_rank(%x: tensor<64x112x112xf32>) {
  // expected-error@+1 {{pooling takes a 4-D (NCHW) input, got 64x112x112}}
  %0 = "graph.max_pool2d"(%x) {kernel = array<i64: 3, 3>, strides = array<i64: 2, 2>, padding = array<i64: 1, 1, 1, 1>, dilation = array<i64: 1, 1>} : (tensor<64x112x112xf32>) -> tensor<64x56x56xf32>
  return
}

// -----

// Pooling needs two kernel sizes, strides and dilations, and four paddings.
func.func @max_pool2d_kernel(%x: tensor<1x1x8x8xf32>) {
  // expected-error@+1 {{pooling needs 2 kernel sizes, 2 strides, 2 dilations and 4 paddings (top, left, bottom, right)}}
  %0 = "graph.max_pool2d"(%x) {kernel = array<i64: 2, 2, 2>, strides = array<i64: 2, 2>, padding = array<i64: 0, 0, 0, 0>, dilation = array<i64: 1, 1>} : (tensor<1x1x8x8xf32>) -> tensor<1x1x4x4xf32>
  return
}

// -----

// Pooling strides are positive.
func.func @max_pool2d_stride(%x: tensor<1x1x8x8xf32>) {
  // expected-error@+1 {{pooling kernel, strides and dilations must be positive, paddings >= 0}}
  %0 = "graph.max_pool2d"(%x) {kernel = array<i64: 2, 2>, strides = array<i64: 0, 2>, padding = array<i64: 0, 0, 0, 0>, dilation = array<i64: 1, 1>} : (tensor<1x1x8x8xf32>) -> tensor<1x1x4x4xf32>
  return
}

// -----

// Pooling padding is at most half the kernel (as PyTorch requires).
func.func @max_pool2d_padding(%x: tensor<1x1x8x8xf32>) {
  // expected-error@+1 {{pooling padding [2, 2, 2, 2] must be at most half the kernel [3, 3]}}
  %0 = "graph.max_pool2d"(%x) {kernel = array<i64: 3, 3>, strides = array<i64: 1, 1>, padding = array<i64: 2, 2, 2, 2>, dilation = array<i64: 1, 1>} : (tensor<1x1x8x8xf32>) -> tensor<1x1x10x10xf32>
  return
}

// -----

// A window larger than the input leaves no output.
func.func @max_pool2d_empty(%x: tensor<1x1x2x2xf32>) {
  // expected-error@+1 {{pooling output would be empty (0x0): the window is too large}}
  %0 = "graph.max_pool2d"(%x) {kernel = array<i64: 3, 3>, strides = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>, dilation = array<i64: 1, 1>} : (tensor<1x1x2x2xf32>) -> tensor<1x1x1x1xf32>
  return
}

// -----

// A dilated max pool's result type accounts for the dilation.
func.func @max_pool2d_result(%x: tensor<1x1x8x8xf32>) {
  // expected-error@+1 {{result type should be tensor<1x1x4x6xf32>, found tensor<1x1x6x6xf32>}}
  %0 = "graph.max_pool2d"(%x) {kernel = array<i64: 3, 3>, strides = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>, dilation = array<i64: 2, 1>} : (tensor<1x1x8x8xf32>) -> tensor<1x1x6x6xf32>
  return
}

// -----

// Pooling attributes are array<i64>.
func.func @max_pool2d_kernel_i32(%x: tensor<1x1x8x8xf32>) {
  // expected-error@+1 {{malformed attribute: Cannot cast attribute to DenseI64ArrayAttr (from Attribute(array<i32: 2, 2>))}}
  %0 = "graph.max_pool2d"(%x) {kernel = array<i32: 2, 2>, strides = array<i64: 2, 2>, padding = array<i64: 0, 0, 0, 0>, dilation = array<i64: 1, 1>} : (tensor<1x1x8x8xf32>) -> tensor<1x1x4x4xf32>
  return
}

// -----

// A max pool needs its dilation attribute (IRDL).
func.func @max_pool2d_no_dilation(%x: tensor<1x1x8x8xf32>) {
  // expected-error@+1 {{'graph.max_pool2d' op attribute "dilation" is expected but not provided}}
  %0 = "graph.max_pool2d"(%x) {kernel = array<i64: 2, 2>, strides = array<i64: 2, 2>, padding = array<i64: 0, 0, 0, 0>} : (tensor<1x1x8x8xf32>) -> tensor<1x1x4x4xf32>
  return
}

// -----

// avg_pool2d padding is (top, left, bottom, right).
func.func @avg_pool2d_padding(%x: tensor<1x1x8x8xf32>) {
  // expected-error@+1 {{pooling needs 2 kernel sizes, 2 strides, 2 dilations and 4 paddings (top, left, bottom, right)}}
  %0 = "graph.avg_pool2d"(%x) {kernel = array<i64: 2, 2>, strides = array<i64: 2, 2>, padding = array<i64: 1, 1>, count_include_pad = true} : (tensor<1x1x8x8xf32>) -> tensor<1x1x5x5xf32>
  return
}

// -----

// avg_pool2d's count_include_pad is a bool, not an integer.
func.func @avg_pool2d_count_include_pad(%x: tensor<1x1x8x8xf32>) {
  // expected-error@+1 {{malformed attribute: Cannot cast attribute to BoolAttr}}
  %0 = "graph.avg_pool2d"(%x) {kernel = array<i64: 2, 2>, strides = array<i64: 2, 2>, padding = array<i64: 0, 0, 0, 0>, count_include_pad = 1 : i64} : (tensor<1x1x8x8xf32>) -> tensor<1x1x4x4xf32>
  return
}

// -----

// avg_pool2d's result type is the pooled shape.
func.func @avg_pool2d_result(%x: tensor<2x3x8x9xf32>) {
  // expected-error@+1 {{result type should be tensor<2x3x4x4xf32>, found tensor<2x3x4x5xf32>}}
  %0 = "graph.avg_pool2d"(%x) {kernel = array<i64: 2, 2>, strides = array<i64: 2, 2>, padding = array<i64: 0, 0, 0, 0>, count_include_pad = true} : (tensor<2x3x8x9xf32>) -> tensor<2x3x4x5xf32>
  return
}

// -----

// avg_pool2d works on floating-point elements only.
func.func @avg_pool2d_i32(%x: tensor<1x1x4x4xi32>) {
  // expected-error@+1 {{input must have element type f32, f16 or bf16, found i32}}
  %0 = "graph.avg_pool2d"(%x) {kernel = array<i64: 2, 2>, strides = array<i64: 2, 2>, padding = array<i64: 0, 0, 0, 0>, count_include_pad = true} : (tensor<1x1x4x4xi32>) -> tensor<1x1x2x2xi32>
  return
}

// -----

// avg_pool2d needs count_include_pad (IRDL).
func.func @avg_pool2d_no_count(%x: tensor<1x1x4x4xf32>) {
  // expected-error@+1 {{'graph.avg_pool2d' op attribute "count_include_pad" is expected but not provided}}
  %0 = "graph.avg_pool2d"(%x) {kernel = array<i64: 2, 2>, strides = array<i64: 2, 2>, padding = array<i64: 0, 0, 0, 0>} : (tensor<1x1x4x4xf32>) -> tensor<1x1x2x2xf32>
  return
}

// -----

// An adaptive pool keeps the batch and channels.
func.func @adaptive_avg_pool2d_channels(%x: tensor<1x3x7x7xf32>) {
  // expected-error@+1 {{adaptive_avg_pool2d maps N x C x H x W to N x C x OH x OW, got 1x3x7x7 to 1x4x1x1}}
  %0 = "graph.adaptive_avg_pool2d"(%x) : (tensor<1x3x7x7xf32>) -> tensor<1x4x1x1xf32>
  return
}

// -----

// An adaptive pool takes NCHW inputs.
func.func @adaptive_avg_pool2d_rank(%x: tensor<3x7x7xf32>) {
  // expected-error@+1 {{adaptive_avg_pool2d maps N x C x H x W to N x C x OH x OW, got 3x7x7 to 3x1x1}}
  %0 = "graph.adaptive_avg_pool2d"(%x) : (tensor<3x7x7xf32>) -> tensor<3x1x1xf32>
  return
}

// -----

// An adaptive pool's output is not empty (no graph op takes or makes zero-sized dimensions).
func.func @adaptive_avg_pool2d_empty(%x: tensor<1x3x7x7xf32>) {
  // expected-error@+1 {{result has a zero-sized dimension: tensor<1x3x0x1xf32>}}
  %0 = "graph.adaptive_avg_pool2d"(%x) : (tensor<1x3x7x7xf32>) -> tensor<1x3x0x1xf32>
  return
}

// -----

// An adaptive pool keeps the element type.
func.func @adaptive_avg_pool2d_element(%x: tensor<1x3x7x7xf32>) {
  // expected-error@+1 {{result element type f16 differs from the input's f32}}
  %0 = "graph.adaptive_avg_pool2d"(%x) : (tensor<1x3x7x7xf32>) -> tensor<1x3x1x1xf16>
  return
}

// -----

// A slice has one offset, size and stride per dimension.
func.func @slice_rank(%x: tensor<4x6xf32>) {
  // expected-error@+1 {{slice needs one offset, size and stride per dimension of 4x6 (rank 2), got 1, 2 and 2}}
  %0 = "graph.slice"(%x) {offsets = array<i64: 0>, sizes = array<i64: 2, 2>, strides = array<i64: 1, 1>} : (tensor<4x6xf32>) -> tensor<2x2xf32>
  return
}

// -----

// A slice stays inside the input.
func.func @slice_bounds(%x: tensor<4x6xf32>) {
  // expected-error@+1 {{slice dimension 1: offset 2, size 3, stride 2 does not fit in 6 elements}}
  %0 = "graph.slice"(%x) {offsets = array<i64: 0, 2>, sizes = array<i64: 4, 3>, strides = array<i64: 1, 2>} : (tensor<4x6xf32>) -> tensor<4x3xf32>
  return
}

// -----

// A slice's result shape is its sizes.
func.func @slice_result(%x: tensor<4x6xf32>) {
  // expected-error@+1 {{result type should be tensor<2x3xf32>, found tensor<3x2xf32>}}
  %0 = "graph.slice"(%x) {offsets = array<i64: 0, 0>, sizes = array<i64: 2, 3>, strides = array<i64: 1, 1>} : (tensor<4x6xf32>) -> tensor<3x2xf32>
  return
}

// -----

// Slice offsets are an array<i64>.
func.func @slice_offsets_kind(%x: tensor<4x6xf32>) {
  // expected-error@+1 {{malformed attribute: Cannot cast attribute to DenseI64ArrayAttr (from Attribute(array<i32: 0, 0>))}}
  %0 = "graph.slice"(%x) {offsets = array<i32: 0, 0>, sizes = array<i64: 2, 3>, strides = array<i64: 1, 1>} : (tensor<4x6xf32>) -> tensor<2x3xf32>
  return
}

// -----

// concat operands have the same rank.
func.func @concat_rank(%x: tensor<2x3xf32>, %y: tensor<3xf32>) {
  // expected-error@+1 {{concat operands have different ranks: 2x3 and 3}}
  %0 = "graph.concat"(%x, %y) {axis = 0 : i64} : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<5x3xf32>
  return
}

// -----

// concat operands differ only along the axis.
func.func @concat_shapes(%x: tensor<2x3xf32>, %y: tensor<4x3xf32>) {
  // expected-error@+1 {{concat operands 2x3 and 4x3 differ in dimension 0, not only in the concatenation axis 1}}
  %0 = "graph.concat"(%x, %y) {axis = 1 : i64} : (tensor<2x3xf32>, tensor<4x3xf32>) -> tensor<2x6xf32>
  return
}

// -----

// A concat axis must name a dimension.
func.func @concat_axis(%x: tensor<2x3xf32>) {
  // expected-error@+1 {{axis 2 is out of range for rank 2}}
  %0 = "graph.concat"(%x, %x) {axis = 2 : i64} : (tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<2x3xf32>
  return
}

// -----

// concat operands have the same element type.
func.func @concat_mixed(%x: tensor<2x3xf32>, %y: tensor<2x3xf16>) {
  // expected-error@+1 {{operand element types differ: f32 vs f16}}
  %0 = "graph.concat"(%x, %y) {axis = 0 : i64} : (tensor<2x3xf32>, tensor<2x3xf16>) -> tensor<4x3xf32>
  return
}

// -----

// A concat's result adds the operands' extents along the axis.
func.func @concat_result(%x: tensor<2x3xf32>, %y: tensor<2x1xf32>) {
  // expected-error@+1 {{result type should be tensor<2x4xf32>, found tensor<2x3xf32>}}
  %0 = "graph.concat"(%x, %y) {axis = -1 : i64} : (tensor<2x3xf32>, tensor<2x1xf32>) -> tensor<2x3xf32>
  return
}

// -----

// broadcast_to stretches size-1 dimensions only.
func.func @broadcast_to_shape(%x: tensor<3x2xf32>) {
  // expected-error@+1 {{cannot broadcast 3x2 to 3x4}}
  %0 = "graph.broadcast_to"(%x) : (tensor<3x2xf32>) -> tensor<3x4xf32>
  return
}

// -----

// broadcast_to does not drop dimensions.
func.func @broadcast_to_rank(%x: tensor<2x3xf32>) {
  // expected-error@+1 {{cannot broadcast 2x3 to 3}}
  %0 = "graph.broadcast_to"(%x) : (tensor<2x3xf32>) -> tensor<3xf32>
  return
}

// -----

// broadcast_to keeps the element type.
func.func @broadcast_to_element(%x: tensor<3xf32>) {
  // expected-error@+1 {{result element type f16 differs from the input's f32}}
  %0 = "graph.broadcast_to"(%x) : (tensor<3xf32>) -> tensor<2x3xf16>
  return
}

// -----

// gather indices are i32 or i64.
func.func @gather_indices_f32(%w: tensor<10x4xf32>, %i: tensor<3xf32>) {
  // expected-error@+1 {{indices must have element type i32 or i64, found f32}}
  %0 = "graph.gather"(%w, %i) {axis = 0 : i64} : (tensor<10x4xf32>, tensor<3xf32>) -> tensor<3x4xf32>
  return
}

// -----

// gather needs an input with an axis to index.
func.func @gather_scalar(%w: tensor<f32>, %i: tensor<3xi64>) {
  // expected-error@+1 {{gather needs an input of rank >= 1}}
  %0 = "graph.gather"(%w, %i) {axis = 0 : i64} : (tensor<f32>, tensor<3xi64>) -> tensor<3xf32>
  return
}

// -----

// A gather axis must name a dimension of the input.
func.func @gather_axis(%w: tensor<10x4xf32>, %i: tensor<3xi64>) {
  // expected-error@+1 {{axis -3 is out of range for rank 2}}
  %0 = "graph.gather"(%w, %i) {axis = -3 : i64} : (tensor<10x4xf32>, tensor<3xi64>) -> tensor<3x4xf32>
  return
}

// -----

// A gather's result replaces the axis with the indices' shape.
func.func @gather_result(%w: tensor<10x4xf32>, %i: tensor<2x3xi32>) {
  // expected-error@+1 {{result type should be tensor<10x2x3xf32>, found tensor<2x3x4xf32>}}
  %0 = "graph.gather"(%w, %i) {axis = 1 : i64} : (tensor<10x4xf32>, tensor<2x3xi32>) -> tensor<2x3x4xf32>
  return
}

// -----

// gather reads floating-point tables.
func.func @gather_input_i64(%w: tensor<10xi64>, %i: tensor<3xi64>) {
  // expected-error@+1 {{input must have element type f32, f16 or bf16, found i64}}
  %0 = "graph.gather"(%w, %i) {axis = 0 : i64} : (tensor<10xi64>, tensor<3xi64>) -> tensor<3xi64>
  return
}

// -----

// An i8 matmul accumulates in i32.
func.func @matmul_i8_result(%a: tensor<2x4xi8>, %b: tensor<4x3xi8>) -> tensor<2x3xi8> {
  // expected-error@+1 {{an i8 matmul accumulates in i32: result type should be tensor<2x3xi32>, found tensor<2x3xi8>}}
  %r = "graph.matmul"(%a, %b) : (tensor<2x4xi8>, tensor<4x3xi8>) -> tensor<2x3xi8>
  return %r : tensor<2x3xi8>
}

// -----

// Both operands are i8.
func.func @matmul_mixed(%a: tensor<2x4xi8>, %b: tensor<4x3xf32>) -> tensor<2x3xi32> {
  // expected-error@+1 {{operand element types differ: i8 vs f32}}
  %r = "graph.matmul"(%a, %b) : (tensor<2x4xi8>, tensor<4x3xf32>) -> tensor<2x3xi32>
  return %r : tensor<2x3xi32>
}
