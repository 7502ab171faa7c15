// RUN: strata-opt %s --split-input-file --convert-graph-to-tprog | FileCheck %s

// A padded max pool reduces over the window's rows into a column buffer that has -inf columns
// around the data, then over the window's columns into the output. Each buffer is set to -inf by
// an init block of its own; the reduction loop is outside the innermost (spatial) loop. An
// out-of-range row reads a clamped row and selects -inf instead.
// CHECK-LABEL: func.func private @max_pool2d
// CHECK-SAME: (%[[X:.*]]: memref<1x2x8x8xf32>, %[[OUT:.*]]: memref<1x2x4x4xf32>)
// CHECK: %[[ROWS:.*]] = memref.alloc() : memref<1x2x4x9xf32>
// CHECK: %[[NEG_INF:.*]] = arith.constant 0xFF800000 : f32
// CHECK-NEXT: memref.store %[[NEG_INF]], %[[ROWS]]
// CHECK: name = "max_pool2d_rows_init"
// CHECK: }, {
// CHECK-NEXT: ^bb0(%[[N:.*]]: index, %[[C:.*]]: index, %[[I:.*]]: index, %[[KH:.*]]: index, %[[W:.*]]: index):
// CHECK: %[[S:.*]] = arith.muli %[[I]]
// CHECK: %[[START:.*]] = arith.addi %[[S]], %{{.*}} : index
// CHECK: %[[H:.*]] = arith.addi %[[START]], %[[KH]] : index
// CHECK: %[[LO:.*]] = arith.maxsi %[[H]]
// CHECK: %[[CLAMPED:.*]] = arith.minsi %[[LO]]
// CHECK: %[[V:.*]] = memref.load %[[X]][%[[N]], %[[C]], %[[CLAMPED]], %[[W]]]
// CHECK: %[[IN:.*]] = arith.cmpi sge, %[[H]]
// CHECK: %[[T:.*]] = arith.select %[[IN]], %[[V]], %{{.*}} : f32
// CHECK: %[[COL:.*]] = arith.addi %[[W]]
// CHECK: %[[ACC:.*]] = memref.load %[[ROWS]][%[[N]], %[[C]], %[[I]], %[[COL]]]
// CHECK: %[[M:.*]] = arith.maximumf %[[ACC]], %[[T]] : f32
// CHECK: memref.store %[[M]], %[[ROWS]][%[[N]], %[[C]], %[[I]], %[[COL]]]
// CHECK: {dom = array<i64: 1, 2, 4, 3, 8>, iter_types = ["spatial", "spatial", "spatial", "reduction", "spatial"], name = "max_pool2d_rows"}
// CHECK-NEXT: } {tprog.loop = "w_1"}
// CHECK-NEXT: } {tprog.loop = "kh"}
// CHECK: memref.store %{{.*}}, %[[OUT]]
// CHECK: name = "max_pool2d_init"
// CHECK: }, {
// CHECK-NEXT: ^bb0(%{{.*}}: index, %{{.*}}: index, %{{.*}}: index, %[[KW:.*]]: index, %[[J:.*]]: index):
// CHECK: %[[J2:.*]] = arith.muli %[[J]]
// CHECK-NEXT: %[[AT:.*]] = arith.addi %[[J2]], %[[KW]] : index
// CHECK-NEXT: memref.load %[[ROWS]][%{{.*}}, %{{.*}}, %{{.*}}, %[[AT]]]
// CHECK-NOT: arith.select
// CHECK: arith.maximumf
// CHECK: {dom = array<i64: 1, 2, 4, 3, 4>, iter_types = ["spatial", "spatial", "spatial", "reduction", "spatial"], name = "max_pool2d"}
// CHECK-NEXT: } {tprog.loop = "ow"}
// CHECK-NEXT: } {tprog.loop = "kw"}
// CHECK-NOT: memref.dealloc
// CHECK: return
func.func @max_pool(%x: tensor<1x2x8x8xf32>) -> tensor<1x2x4x4xf32> {
  %0 = "graph.max_pool2d"(%x) {kernel = array<i64: 3, 3>, strides = array<i64: 2, 2>, padding = array<i64: 1, 1, 1, 1>, dilation = array<i64: 1, 1>} : (tensor<1x2x8x8xf32>) -> tensor<1x2x4x4xf32>
  return %0 : tensor<1x2x4x4xf32>
}

// -----

// Without padding nothing is clamped or selected; a dilated window steps by the dilation.
// CHECK-LABEL: func.func private @max_pool2d
// CHECK: memref.alloc() : memref<1x1x3x9xf32>
// CHECK-NOT: arith.select
// CHECK-NOT: arith.minsi
// CHECK: name = "max_pool2d_rows"
// CHECK: %[[K:.*]] = arith.muli %{{.*}}, %[[C2:.*]] : index
// CHECK: arith.addi %{{.*}}, %[[K]] : index
// CHECK: name = "max_pool2d"
func.func @max_pool_dilated(%x: tensor<1x1x7x9xf32>) -> tensor<1x1x3x7xf32> {
  %0 = "graph.max_pool2d"(%x) {kernel = array<i64: 2, 2>, strides = array<i64: 2, 1>, padding = array<i64: 0, 0, 0, 0>, dilation = array<i64: 2, 2>} : (tensor<1x1x7x9xf32>) -> tensor<1x1x3x7xf32>
  return %0 : tensor<1x1x3x7xf32>
}

// -----

// A pool whose columns are not pooled (1-wide kernel, unit stride) is the row pass alone,
// straight into the output.
// CHECK-LABEL: func.func private @max_pool2d
// CHECK-SAME: (%{{.*}}: memref<1x2x6x5xf32>, %[[OUT:.*]]: memref<1x2x6x5xf32>)
// CHECK-NOT: memref.alloc
// CHECK: memref.store %{{.*}}, %[[OUT]]
// CHECK: name = "max_pool2d_init"
// CHECK: memref.store %{{.*}}, %[[OUT]]
// CHECK: iter_types = ["spatial", "spatial", "spatial", "reduction", "spatial"], name = "max_pool2d"
// CHECK-NOT: tprog.block
// CHECK: return
func.func @max_pool_rows_only(%x: tensor<1x2x6x5xf32>) -> tensor<1x2x6x5xf32> {
  %0 = "graph.max_pool2d"(%x) {kernel = array<i64: 3, 1>, strides = array<i64: 1, 1>, padding = array<i64: 1, 0, 1, 0>, dilation = array<i64: 1, 1>} : (tensor<1x2x6x5xf32>) -> tensor<1x2x6x5xf32>
  return %0 : tensor<1x2x6x5xf32>
}

// -----

// A pool whose rows are not pooled (1-high kernel, unit stride, no padding) is the column pass
// alone, reading the input.
// CHECK-LABEL: func.func private @max_pool2d
// CHECK-SAME: (%[[X:.*]]: memref<2x3x4x9xf32>, %[[OUT:.*]]: memref<2x3x4x4xf32>)
// CHECK-NOT: memref.alloc
// CHECK: name = "max_pool2d_init"
// CHECK: memref.load %[[X]]
// CHECK: dom = array<i64: 2, 3, 4, 3, 4>, iter_types = ["spatial", "spatial", "spatial", "reduction", "spatial"], name = "max_pool2d"
// CHECK-NOT: tprog.block
// CHECK: return
func.func @max_pool_columns_only(%x: tensor<2x3x4x9xf32>) -> tensor<2x3x4x4xf32> {
  %0 = "graph.max_pool2d"(%x) {kernel = array<i64: 1, 3>, strides = array<i64: 1, 2>, padding = array<i64: 0, 0, 0, 0>, dilation = array<i64: 1, 1>} : (tensor<2x3x4x9xf32>) -> tensor<2x3x4x4xf32>
  return %0 : tensor<2x3x4x4xf32>
}

// -----

// An average pool counting the padding scales each term by 1/KH in the row pass and 1/KW in the
// column pass; padding reads as 0.
// CHECK-LABEL: func.func private @avg_pool2d
// CHECK: %[[ZERO:.*]] = arith.constant 0.000000e+00 : f32
// CHECK: name = "avg_pool2d_rows_init"
// CHECK: arith.select %{{.*}}, %{{.*}}, %{{.*}} : f32
// CHECK: %[[THIRD:.*]] = arith.constant 0.333333343 : f32
// CHECK-NEXT: arith.mulf %{{.*}}, %[[THIRD]] : f32
// CHECK: arith.addf
// CHECK: name = "avg_pool2d_rows"
// CHECK: name = "avg_pool2d_init"
// CHECK-NOT: arith.sitofp
// CHECK: %[[HALF:.*]] = arith.constant 5.000000e-01 : f32
// CHECK-NEXT: arith.mulf %{{.*}}, %[[HALF]] : f32
// CHECK: name = "avg_pool2d"
func.func @avg_pool_count_pad(%x: tensor<1x2x8x8xf32>) -> tensor<1x2x4x5xf32> {
  %0 = "graph.avg_pool2d"(%x) {kernel = array<i64: 3, 2>, strides = array<i64: 2, 2>, padding = array<i64: 1, 1, 1, 1>, count_include_pad = true} : (tensor<1x2x8x8xf32>) -> tensor<1x2x4x5xf32>
  return %0 : tensor<1x2x4x5xf32>
}

// -----

// Without count_include_pad, each pass divides by the number of input elements in the window
// along its axis: min(start + K, size) - max(start, 0), computed from the output position.
// CHECK-LABEL: func.func private @avg_pool2d
// CHECK: name = "avg_pool2d_rows_init"
// CHECK: arith.select
// CHECK: %[[LO:.*]] = arith.maxsi
// CHECK: %[[HI:.*]] = arith.minsi
// CHECK-NEXT: %[[COUNT:.*]] = arith.subi %[[HI]], %[[LO]] : index
// CHECK-NEXT: %[[CI:.*]] = arith.index_cast %[[COUNT]] : index to i32
// CHECK: %[[CF:.*]] = arith.sitofp %[[CI]] : i32 to f32
// CHECK-NEXT: %[[INV:.*]] = arith.divf %{{.*}}, %[[CF]] : f32
// CHECK-NEXT: arith.mulf %{{.*}}, %[[INV]] : f32
// CHECK: name = "avg_pool2d_rows"
// CHECK: arith.sitofp
// CHECK: name = "avg_pool2d"
func.func @avg_pool_exclude_pad(%x: tensor<1x2x8x8xf32>) -> tensor<1x2x4x4xf32> {
  %0 = "graph.avg_pool2d"(%x) {kernel = array<i64: 3, 3>, strides = array<i64: 2, 2>, padding = array<i64: 1, 1, 1, 1>, count_include_pad = false} : (tensor<1x2x8x8xf32>) -> tensor<1x2x4x4xf32>
  return %0 : tensor<1x2x4x4xf32>
}

// -----

// A global average pool (1x1 adaptive output) is one reduction over the collapsed H*W
// dimension, innermost and vectorized (the sum reassociates).
// CHECK-LABEL: func.func private @adaptive_avg_pool2d
// CHECK-SAME: (%[[X:.*]]: memref<1x512x7x7xf32>, %[[OUT:.*]]: memref<1x512x1x1xf32>)
// CHECK: %[[FLAT:.*]] = memref.collapse_shape %[[X]] {{\[}}[0], [1], [2, 3]] : memref<1x512x7x7xf32> into memref<1x512x49xf32>
// CHECK: memref.store %{{.*}}, %[[OUT]]
// CHECK: }, {
// CHECK-NEXT: ^bb0(%[[N:.*]]: index, %[[C:.*]]: index, %[[R:.*]]: index):
// CHECK-NEXT: %[[V:.*]] = memref.load %[[FLAT]][%[[N]], %[[C]], %[[R]]]
// CHECK-NEXT: %[[INV:.*]] = arith.constant 0.0204081628 : f32
// CHECK-NEXT: %[[T:.*]] = arith.mulf %[[V]], %[[INV]] : f32
// CHECK-NEXT: %[[ACC:.*]] = memref.load %[[OUT]]
// CHECK-NEXT: arith.addf %[[ACC]], %[[T]] fastmath<reassoc> : f32
// CHECK: {dom = array<i64: 1, 512, 49>, iter_types = ["spatial", "spatial", "reduction"], name = "adaptive_avg_pool2d"}
// CHECK-NEXT: } {tprog.kind = "vectorized", tprog.loop = "r"}
func.func @global_avg_pool(%x: tensor<1x512x7x7xf32>) -> tensor<1x512x1x1xf32> {
  %0 = "graph.adaptive_avg_pool2d"(%x) : (tensor<1x512x7x7xf32>) -> tensor<1x512x1x1xf32>
  return %0 : tensor<1x512x1x1xf32>
}

// -----

// An adaptive pool 7 -> 5 has rows windows of 2 and 3 elements: window o starts at o * 7 / 5,
// ends at (o * 7 + 11) / 5; taps beyond the end select 0, and each term is divided by the
// window's size. The columns (6 -> 3) have fixed windows of 2: no selects, a constant 1/2.
// CHECK-LABEL: func.func private @adaptive_avg_pool2d
// CHECK: memref.alloc() : memref<1x1x5x6xf32>
// CHECK: name = "adaptive_avg_pool2d_rows_init"
// CHECK: }, {
// CHECK-NEXT: ^bb0(%{{.*}}: index, %{{.*}}: index, %[[I:.*]]: index, %[[K:.*]]: index, %{{.*}}: index):
// CHECK: %[[M:.*]] = arith.muli %[[I]], %{{.*}} : index
// CHECK: %[[START:.*]] = arith.divui %[[M]], %{{.*}} : index
// CHECK-NEXT: %[[H:.*]] = arith.addi %[[START]], %[[K]] : index
// CHECK: %[[CLAMPED:.*]] = arith.minsi %[[H]]
// CHECK-NEXT: memref.load %{{.*}}[%{{.*}}, %{{.*}}, %[[CLAMPED]], %{{.*}}]
// CHECK: %[[END:.*]] = arith.divui
// CHECK-NEXT: %[[IN:.*]] = arith.cmpi ult, %[[H]], %[[END]] : index
// CHECK: arith.select %[[IN]]
// CHECK: arith.sitofp
// CHECK: dom = array<i64: 1, 1, 5, 3, 6>, {{.*}}name = "adaptive_avg_pool2d_rows"
// CHECK-NOT: arith.cmpi
// CHECK: %[[HALF:.*]] = arith.constant 5.000000e-01 : f32
// CHECK-NEXT: arith.mulf %{{.*}}, %[[HALF]] : f32
// CHECK: dom = array<i64: 1, 1, 5, 2, 3>, {{.*}}name = "adaptive_avg_pool2d"
func.func @adaptive_avg_pool(%x: tensor<1x1x7x6xf32>) -> tensor<1x1x5x3xf32> {
  %0 = "graph.adaptive_avg_pool2d"(%x) : (tensor<1x1x7x6xf32>) -> tensor<1x1x5x3xf32>
  return %0 : tensor<1x1x5x3xf32>
}

// -----

// An inference batch_norm folds its statistics per channel into a scale and a shift, then
// computes x * scale[c] + shift[c] in one spatial block over the input.
// CHECK-LABEL: func.func private @batch_norm
// CHECK-SAME: (%[[X:.*]]: memref<2x3x4x5xf32>, %[[W:.*]]: memref<3xf32>, %[[B:.*]]: memref<3xf32>, %[[MEAN:.*]]: memref<3xf32>, %[[VAR:.*]]: memref<3xf32>, %[[OUT:.*]]: memref<2x3x4x5xf32>)
// CHECK-DAG: %[[SCALE:.*]] = memref.alloc() : memref<3xf32>
// CHECK-DAG: %[[SHIFT:.*]] = memref.alloc() : memref<3xf32>
// CHECK: }, {
// CHECK-NEXT: ^bb0(%[[C:.*]]: index):
// CHECK-NEXT: %[[EPS:.*]] = arith.constant 9.99999974E-6 : f32
// CHECK-NEXT: %[[V:.*]] = memref.load %[[VAR]][%[[C]]]
// CHECK-NEXT: %[[VE:.*]] = arith.addf %[[V]], %[[EPS]] : f32
// CHECK-NEXT: %[[RSTD:.*]] = math.rsqrt %[[VE]] : f32
// CHECK-NEXT: %[[G:.*]] = memref.load %[[W]][%[[C]]]
// CHECK-NEXT: %[[S:.*]] = arith.mulf %[[G]], %[[RSTD]] : f32
// CHECK-NEXT: %[[M:.*]] = memref.load %[[MEAN]][%[[C]]]
// CHECK-NEXT: %[[MS:.*]] = arith.mulf %[[M]], %[[S]] : f32
// CHECK-NEXT: memref.store %[[S]], %[[SCALE]][%[[C]]]
// CHECK-NEXT: %[[BV:.*]] = memref.load %[[B]][%[[C]]]
// CHECK-NEXT: %[[SH:.*]] = arith.subf %[[BV]], %[[MS]] : f32
// CHECK-NEXT: memref.store %[[SH]], %[[SHIFT]][%[[C]]]
// CHECK: {dom = array<i64: 3>, iter_types = ["spatial"], name = "batch_norm_fold"}
// CHECK: }, {
// CHECK-NEXT: ^bb0(%[[I0:.*]]: index, %[[I1:.*]]: index, %[[I2:.*]]: index, %[[I3:.*]]: index):
// CHECK-NEXT: %[[XV:.*]] = memref.load %[[X]][%[[I0]], %[[I1]], %[[I2]], %[[I3]]]
// CHECK-NEXT: %[[SC:.*]] = memref.load %[[SCALE]][%[[I1]]]
// CHECK-NEXT: %[[Y:.*]] = arith.mulf %[[XV]], %[[SC]] : f32
// CHECK-NEXT: %[[SF:.*]] = memref.load %[[SHIFT]][%[[I1]]]
// CHECK-NEXT: %[[Z:.*]] = arith.addf %[[Y]], %[[SF]] : f32
// CHECK-NEXT: memref.store %[[Z]], %[[OUT]][%[[I0]], %[[I1]], %[[I2]], %[[I3]]]
// CHECK: {dom = array<i64: 2, 3, 4, 5>, iter_types = ["spatial", "spatial", "spatial", "spatial"], name = "batch_norm"}
// CHECK-NOT: memref.dealloc
// CHECK: return
func.func @batch_norm(%x: tensor<2x3x4x5xf32>, %w: tensor<3xf32>, %b: tensor<3xf32>, %m: tensor<3xf32>, %v: tensor<3xf32>) -> tensor<2x3x4x5xf32> {
  %0 = "graph.batch_norm"(%x, %w, %b, %m, %v) {epsilon = 1.0e-05 : f64} : (tensor<2x3x4x5xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>) -> tensor<2x3x4x5xf32>
  return %0 : tensor<2x3x4x5xf32>
}
