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
