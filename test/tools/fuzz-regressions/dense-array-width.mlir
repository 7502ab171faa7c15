// RUN: strata-opt %s --split-input-file --verify-diagnostics

// Found by the driver fuzzer: IRDL checks only that an attribute is a dense array, so an
// array<i664: ...> reached the verifiers, whose read as array<i64> raised a TypeError (an
// internal error). Malformed attributes are located errors.
func.func private @dom_width(%i: index) {
  // expected-error@+1 {{'dom' must be an array<i64: ...> of extents}}
  "tprog.block"(%i) ({
  ^bb0(%v: index):
    omp.terminator
  }, {
  ^bb0(%v: index):
    omp.terminator
  }) {dom = array<i664: 4>, iter_types = ["spatial"], name = "b"} : (index) -> ()
  return
}

// -----

func.func @permutation_width(%x: tensor<2x3xf32>) -> tensor<3x2xf32> {
  // expected-error@+1 {{'permutation' must be an array<i64: ...>}}
  %0 = "graph.transpose"(%x) {permutation = array<i32: 1, 0>} : (tensor<2x3xf32>) -> tensor<3x2xf32>
  return %0 : tensor<3x2xf32>
}

// -----

// The graph ops' shape rules report the same failed read as a malformed attribute.
func.func @pool_width(%x: tensor<1x1x4x4xf32>) -> tensor<1x1x2x2xf32> {
  // expected-error@+1 {{malformed attribute: Can't cast unknown element type DenseArrayAttr}}
  %0 = "graph.max_pool2d"(%x) {kernel = array<i664: 2, 2>, strides = array<i64: 2, 2>, padding = array<i64: 0, 0, 0, 0>, dilation = array<i64: 1, 1>, ceil_mode = false} : (tensor<1x1x4x4xf32>) -> tensor<1x1x2x2xf32>
  return %0 : tensor<1x1x2x2xf32>
}
