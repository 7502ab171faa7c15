// RUN: strata-opt %s --split-input-file --convert-graph-to-tprog | FileCheck %s

// A strided slice is a copy block reading the input at offset + index * stride.
// CHECK-LABEL: func.func @take_slice
// CHECK: call @slice(%{{.*}}, %{{.*}}) : (memref<4x6xf32>, memref<2x3xf32>) -> ()
// CHECK-LABEL: func.func private @slice
// CHECK-SAME: (%[[X:.*]]: memref<4x6xf32>, %[[OUT:.*]]: memref<2x3xf32>) attributes {tprog.prim_func}
// CHECK: }, {
// CHECK-NEXT: ^bb0(%[[I:.*]]: index, %[[J:.*]]: index):
// CHECK-NEXT: %[[C1:.*]] = arith.constant 1 : index
// CHECK-NEXT: %[[ROW:.*]] = arith.addi %[[I]], %[[C1]] : index
// CHECK-NEXT: %[[C2:.*]] = arith.constant 2 : index
// CHECK-NEXT: %[[COL:.*]] = arith.muli %[[J]], %[[C2]] : index
// CHECK-NEXT: %[[V:.*]] = memref.load %[[X]][%[[ROW]], %[[COL]]]
// CHECK-NEXT: memref.store %[[V]], %[[OUT]][%[[I]], %[[J]]]
// CHECK: {dom = array<i64: 2, 3>, iter_types = ["spatial", "spatial"], name = "slice"}
func.func @take_slice(%x: tensor<4x6xf32>) -> tensor<2x3xf32> {
  %0 = "graph.slice"(%x) {offsets = array<i64: 1, 0>, sizes = array<i64: 2, 3>, strides = array<i64: 1, 2>} : (tensor<4x6xf32>) -> tensor<2x3xf32>
  return %0 : tensor<2x3xf32>
}

// -----

// A concat is two copy blocks: lhs into the leading part of the output, rhs shifted along the
// (negative, normalized) axis by lhs's extent.
// CHECK-LABEL: func.func private @concat
// CHECK-SAME: (%[[LHS:.*]]: memref<2x3xf32>, %[[RHS:.*]]: memref<2x5xf32>, %[[OUT:.*]]: memref<2x8xf32>)
// CHECK: }, {
// CHECK-NEXT: ^bb0(%[[I:.*]]: index, %[[J:.*]]: index):
// CHECK-NEXT: %[[V:.*]] = memref.load %[[LHS]][%[[I]], %[[J]]]
// CHECK-NEXT: memref.store %[[V]], %[[OUT]][%[[I]], %[[J]]]
// CHECK: {dom = array<i64: 2, 3>, iter_types = ["spatial", "spatial"], name = "concat_lhs"}
// CHECK: }, {
// CHECK-NEXT: ^bb0(%[[K:.*]]: index, %[[L:.*]]: index):
// CHECK-NEXT: %[[C3:.*]] = arith.constant 3 : index
// CHECK-NEXT: %[[AT:.*]] = arith.addi %[[L]], %[[C3]] : index
// CHECK-NEXT: %[[W:.*]] = memref.load %[[RHS]][%[[K]], %[[L]]]
// CHECK-NEXT: memref.store %[[W]], %[[OUT]][%[[K]], %[[AT]]]
// CHECK: {dom = array<i64: 2, 5>, iter_types = ["spatial", "spatial"], name = "concat_rhs"}
func.func @join(%x: tensor<2x3xf32>, %y: tensor<2x5xf32>) -> tensor<2x8xf32> {
  %0 = "graph.concat"(%x, %y) {axis = -1 : i64} : (tensor<2x3xf32>, tensor<2x5xf32>) -> tensor<2x8xf32>
  return %0 : tensor<2x8xf32>
}

// -----

// broadcast_to reads index 0 along size-1 input dimensions and ignores the leading ones the
// input lacks.
// CHECK-LABEL: func.func private @broadcast_to
// CHECK-SAME: (%[[X:.*]]: memref<3x1xf32>, %[[OUT:.*]]: memref<2x3x4xf32>)
// CHECK: }, {
// CHECK-NEXT: ^bb0(%[[B:.*]]: index, %[[I:.*]]: index, %[[J:.*]]: index):
// CHECK-NEXT: %[[ZERO:.*]] = arith.constant 0 : index
// CHECK-NEXT: %[[V:.*]] = memref.load %[[X]][%[[I]], %[[ZERO]]]
// CHECK-NEXT: memref.store %[[V]], %[[OUT]][%[[B]], %[[I]], %[[J]]]
// CHECK: {dom = array<i64: 2, 3, 4>, iter_types = ["spatial", "spatial", "spatial"], name = "broadcast_to"}
func.func @expand(%x: tensor<3x1xf32>) -> tensor<2x3x4xf32> {
  %0 = "graph.broadcast_to"(%x) : (tensor<3x1xf32>) -> tensor<2x3x4xf32>
  return %0 : tensor<2x3x4xf32>
}

// -----

// A gather (here an embedding lookup) first turns each index into a position in a local
// buffer: cast to `index`, the axis size added to a negative one, clamped into the axis (memory
// safety). The copy block reads the position and copies the row.
// CHECK-LABEL: func.func private @gather
// CHECK-SAME: (%[[W:.*]]: memref<10x4xf32>, %[[IDS:.*]]: memref<2x3xi32>, %[[OUT:.*]]: memref<2x3x4xf32>)
// CHECK: %[[POS:.*]] = memref.alloc() : memref<2x3xindex>
// CHECK: }, {
// CHECK-NEXT: ^bb0(%[[I:.*]]: index, %[[J:.*]]: index):
// CHECK-NEXT: %[[RAW:.*]] = memref.load %[[IDS]][%[[I]], %[[J]]] : memref<2x3xi32>
// CHECK-NEXT: %[[ID:.*]] = arith.index_cast %[[RAW]] : i32 to index
// CHECK-NEXT: %[[ZERO:.*]] = arith.constant 0 : index
// CHECK-NEXT: %[[NEG:.*]] = arith.cmpi slt, %[[ID]], %[[ZERO]] : index
// CHECK-NEXT: %[[SIZE:.*]] = arith.constant 10 : index
// CHECK-NEXT: %[[WRAPPED:.*]] = arith.addi %[[ID]], %[[SIZE]] : index
// CHECK-NEXT: %[[SEL:.*]] = arith.select %[[NEG]], %[[WRAPPED]], %[[ID]] : index
// CHECK-NEXT: %[[LO:.*]] = arith.maxsi %[[SEL]], %[[ZERO]] : index
// CHECK-NEXT: %[[LAST:.*]] = arith.constant 9 : index
// CHECK-NEXT: %[[ROW:.*]] = arith.minsi %[[LO]], %[[LAST]] : index
// CHECK-NEXT: memref.store %[[ROW]], %[[POS]][%[[I]], %[[J]]]
// CHECK: {dom = array<i64: 2, 3>, iter_types = ["spatial", "spatial"], name = "gather_positions"}
// CHECK: }, {
// CHECK-NEXT: ^bb0(%[[A:.*]]: index, %[[B:.*]]: index, %[[K:.*]]: index):
// CHECK-NEXT: %[[P:.*]] = memref.load %[[POS]][%[[A]], %[[B]]] : memref<2x3xindex>
// CHECK-NEXT: %[[V:.*]] = memref.load %[[W]][%[[P]], %[[K]]]
// CHECK-NEXT: memref.store %[[V]], %[[OUT]][%[[A]], %[[B]], %[[K]]]
// CHECK: {dom = array<i64: 2, 3, 4>, iter_types = ["spatial", "spatial", "spatial"], name = "gather"}
func.func @embedding(%w: tensor<10x4xf32>, %ids: tensor<2x3xi32>) -> tensor<2x3x4xf32> {
  %0 = "graph.gather"(%w, %ids) {axis = 0 : i64} : (tensor<10x4xf32>, tensor<2x3xi32>) -> tensor<2x3x4xf32>
  return %0 : tensor<2x3x4xf32>
}

// -----

// A gather along the last axis with i64 indices reads the position at the trailing iteration
// variables.
// CHECK-LABEL: func.func private @gather
// CHECK-SAME: (%[[X:.*]]: memref<5x7xf32>, %[[IDX:.*]]: memref<3xi64>, %[[OUT:.*]]: memref<5x3xf32>)
// CHECK: %[[POS:.*]] = memref.alloc() : memref<3xindex>
// CHECK: arith.index_cast %{{.*}} : i64 to index
// CHECK: name = "gather_positions"
// CHECK: }, {
// CHECK-NEXT: ^bb0(%[[I:.*]]: index, %[[J:.*]]: index):
// CHECK-NEXT: %[[P:.*]] = memref.load %[[POS]][%[[J]]]
// CHECK-NEXT: memref.load %[[X]][%[[I]], %[[P]]]
func.func @take_columns(%x: tensor<5x7xf32>, %idx: tensor<3xi64>) -> tensor<5x3xf32> {
  %0 = "graph.gather"(%x, %idx) {axis = -1 : i64} : (tensor<5x7xf32>, tensor<3xi64>) -> tensor<5x3xf32>
  return %0 : tensor<5x3xf32>
}
