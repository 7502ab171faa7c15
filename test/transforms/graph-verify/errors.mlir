// The pass itself reports bad graph ops (the parse-time verifiers are turned off here).
// RUN: strata-opt %s --split-input-file --no-verify --graph-verify --verify-diagnostics

// Shape errors are located at the op.
func.func @contracting(%a: tensor<2x4xf32>, %b: tensor<5x3xf32>) -> tensor<2x3xf32> {
  // expected-error@+1 {{contracting dimensions differ}}
  %r = "graph.matmul"(%a, %b) : (tensor<2x4xf32>, tensor<5x3xf32>) -> tensor<2x3xf32>
  return %r : tensor<2x3xf32>
}

// -----

// A result type other than the inferred one is reported.
func.func @result(%a: tensor<2x4xf32>, %b: tensor<4x3xf32>) -> tensor<3x2xf32> {
  // expected-error@+1 {{result type should be tensor<2x3xf32>, found tensor<3x2xf32>}}
  %r = "graph.matmul"(%a, %b) : (tensor<2x4xf32>, tensor<4x3xf32>) -> tensor<3x2xf32>
  return %r : tensor<3x2xf32>
}

// -----

// The first bad op stops the pass; ops of other dialects are not checked.
func.func @first(%x: tensor<4xi32>, %m: memref<4x8xf32>) -> tensor<4xi32> {
  // expected-error@+1 {{input must have element type f32, f16 or bf16, found i32}}
  %r = "graph.relu"(%x) : (tensor<4xi32>) -> tensor<4xi32>
  return %r : tensor<4xi32>
}
