// RUN: strata-opt %s --split-input-file --verify-diagnostics

// dom needs one extent per iteration variable.
func.func private @dom_length(%i: index) {
  // expected-error@+1 {{'dom' has 2 extents for 1 iteration variables}}
  "tprog.block"(%i) ({
  ^bb0(%v: index):
    omp.terminator
  }, {
  ^bb0(%v: index):
    omp.terminator
  }) {dom = array<i64: 4, 4>, iter_types = ["spatial"], name = "b"} : (index) -> ()
  return
}

// -----

// iter_types entries are "spatial" or "reduction".
func.func private @iter_type_name(%i: index) {
  // expected-error@+1 {{'iter_types' entries must be "spatial" or "reduction"}}
  "tprog.block"(%i) ({
  ^bb0(%v: index):
    omp.terminator
  }, {
  ^bb0(%v: index):
    omp.terminator
  }) {dom = array<i64: 4>, iter_types = ["parallel"], name = "b"} : (index) -> ()
  return
}

// -----

// iter_types needs one entry per iteration variable.
func.func private @iter_types_length(%i: index) {
  // expected-error@+1 {{'iter_types' has 2 entries for 1 iteration variables}}
  "tprog.block"(%i) ({
  ^bb0(%v: index):
    omp.terminator
  }, {
  ^bb0(%v: index):
    omp.terminator
  }) {dom = array<i64: 4>, iter_types = ["spatial", "reduction"], name = "b"} : (index) -> ()
  return
}

// -----

// Each region takes the iteration variables as arguments.
func.func private @region_args(%i: index) {
  // expected-error@+1 {{body region takes 0 arguments, expected 1}}
  "tprog.block"(%i) ({
  ^bb0(%v: index):
    omp.terminator
  }, {
    omp.terminator
  }) {dom = array<i64: 4>, iter_types = ["spatial"], name = "b"} : (index) -> ()
  return
}

// -----

// The init region's arguments are checked too.
func.func private @init_args(%i: index) {
  // expected-error@+1 {{init region takes 2 arguments, expected 1}}
  "tprog.block"(%i) ({
  ^bb0(%v: index, %w: index):
    omp.terminator
  }, {
  ^bb0(%v: index):
    omp.terminator
  }) {dom = array<i64: 4>, iter_types = ["spatial"], name = "b"} : (index) -> ()
  return
}

// -----

// Without reduction variables there is nothing to initialise.
func.func private @spatial_init(%i: index, %out: memref<4xf32>) {
  // expected-error@+1 {{a block without reduction variables must have an empty init region}}
  "tprog.block"(%i) ({
  ^bb0(%v: index):
    %cst = arith.constant 0.000000e+00 : f32
    memref.store %cst, %out[%v] : memref<4xf32>
    omp.terminator
  }, {
  ^bb0(%v: index):
    omp.terminator
  }) {dom = array<i64: 4>, iter_types = ["spatial"], name = "b"} : (index) -> ()
  return
}

// -----

// Iteration values are of index type (IRDL).
func.func private @iter_value_type(%i: i64) {
  // expected-error@+1 {{expected 'index' but got 'i64'}}
  "tprog.block"(%i) ({
  ^bb0(%v: index):
    omp.terminator
  }, {
  ^bb0(%v: index):
    omp.terminator
  }) {dom = array<i64: 4>, iter_types = ["spatial"], name = "b"} : (i64) -> ()
  return
}

// -----

// dom is a dense array (IRDL).
func.func private @dom_kind(%i: index) {
  // expected-error@+1 {{expected base attribute 'builtin.dense_array' but got 'builtin.array'}}
  "tprog.block"(%i) ({
  ^bb0(%v: index):
    omp.terminator
  }, {
  ^bb0(%v: index):
    omp.terminator
  }) {dom = [4], iter_types = ["spatial"], name = "b"} : (index) -> ()
  return
}

// -----

// A region must end in a terminator (MLIR's own check).
func.func private @no_terminator(%i: index, %x: f32) {
  "tprog.block"(%i) ({
  ^bb0(%v: index):
    omp.terminator
  }, {
  ^bb0(%v: index):
    // expected-error@+1 {{block with no terminator}}
    %y = arith.addf %x, %x : f32
  }) {dom = array<i64: 4>, iter_types = ["spatial"], name = "b"} : (index) -> ()
  return
}

// -----

// dom is an array of i64 extents.
func.func private @dom_type(%i: index) {
  // expected-error@+1 {{'dom' must be an array<i64: ...> of extents}}
  "tprog.block"(%i) ({
  ^bb0(%v: index):
    omp.terminator
  }, {
  ^bb0(%v: index):
    omp.terminator
  }) {dom = array<i32: 4>, iter_types = ["spatial"], name = "b"} : (index) -> ()
  return
}

// -----

// Extents are positive.
func.func private @dom_positive(%i: index) {
  // expected-error@+1 {{'dom' extents must be positive, found [0]}}
  "tprog.block"(%i) ({
  ^bb0(%v: index):
    omp.terminator
  }, {
  ^bb0(%v: index):
    omp.terminator
  }) {dom = array<i64: 0>, iter_types = ["spatial"], name = "b"} : (index) -> ()
  return
}
