// RUN: strata-opt %s --split-input-file --convert-hwprim-to-vector | FileCheck %s

// The accumulator rows are loaded into vectors, carried through a K loop of broadcast + FMA,
// and stored back.
// CHECK-LABEL: func.func @tile
// CHECK-SAME: (%[[A:.*]]: memref<2x3xf32>, %[[B:.*]]: memref<3x16xf32>, %[[C:.*]]: memref<2x16xf32>)
// CHECK-NOT: hwprim
// CHECK: %[[ACC0:.*]] = vector.load %[[C]][%[[ROW0:.*]], %[[COL:.*]]] : memref<2x16xf32>, vector<16xf32>
// CHECK: %[[ACC1:.*]] = vector.load %[[C]][%[[ROW1:.*]], %[[COL]]] : memref<2x16xf32>, vector<16xf32>
// CHECK: %[[K3:.*]] = arith.constant 3 : index
// CHECK: %[[RES:.*]]:2 = scf.for %[[K:.*]] = %{{.*}} to %[[K3]] step %{{.*}} iter_args(%[[X0:.*]] = %[[ACC0]], %[[X1:.*]] = %[[ACC1]]) -> (vector<16xf32>, vector<16xf32>)
// CHECK: %[[BROW:.*]] = vector.load %[[B]][%[[K]], %[[COL]]] : memref<3x16xf32>, vector<16xf32>
// CHECK: %[[A0:.*]] = memref.load %[[A]][%[[ROW0]], %[[K]]]
// CHECK: %[[S0:.*]] = vector.broadcast %[[A0]] : f32 to vector<16xf32>
// CHECK: %[[F0:.*]] = vector.fma %[[S0]], %[[BROW]], %[[X0]] : vector<16xf32>
// CHECK: %[[A1:.*]] = memref.load %[[A]][%[[ROW1]], %[[K]]]
// CHECK: %[[S1:.*]] = vector.broadcast %[[A1]] : f32 to vector<16xf32>
// CHECK: %[[F1:.*]] = vector.fma %[[S1]], %[[BROW]], %[[X1]] : vector<16xf32>
// CHECK: scf.yield %[[F0]], %[[F1]]
// CHECK: vector.store %[[RES]]#0, %[[C]][%[[ROW0]], %[[COL]]]
// CHECK: vector.store %[[RES]]#1, %[[C]][%[[ROW1]], %[[COL]]]
func.func @tile(%a: memref<2x3xf32>, %b: memref<3x16xf32>, %c: memref<2x16xf32>) {
  "hwprim.fma_microkernel"(%a, %b, %c) {vector_width = 16 : i64} : (memref<2x3xf32>, memref<3x16xf32>, memref<2x16xf32>) -> ()
  return
}

// -----

// Strided subview operands keep their layout in the vector accesses.
// CHECK-LABEL: func.func @strided
// CHECK-COUNT-8: vector.fma %{{.*}} : vector<32xf32>
// CHECK-NOT: vector.fma
// CHECK: vector.store %{{.*}}, %{{.*}} : memref<8x32xf32, strided<[32, 1], offset: ?>>, vector<32xf32>
func.func @strided(%a: memref<8x64xf32, strided<[64, 1], offset: ?>>, %b: memref<64x32xf32, strided<[32, 1], offset: ?>>, %c: memref<8x32xf32, strided<[32, 1], offset: ?>>) {
  "hwprim.fma_microkernel"(%a, %b, %c) {vector_width = 16 : i64} : (memref<8x64xf32, strided<[64, 1], offset: ?>>, memref<64x32xf32, strided<[32, 1], offset: ?>>, memref<8x32xf32, strided<[32, 1], offset: ?>>) -> ()
  return
}
