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

// Strided subview operands keep their layout in the vector accesses; 32 columns are two
// registers of the target's 16 lanes per row (8 x 2 accumulators, 16 FMAs per k).
// CHECK-LABEL: func.func @strided
// CHECK-COUNT-16: vector.fma %{{.*}} : vector<16xf32>
// CHECK-NOT: vector.fma
// CHECK: vector.store %{{.*}}, %{{.*}} : memref<8x32xf32, strided<[32, 1], offset: ?>>, vector<16xf32>
func.func @strided(%a: memref<8x64xf32, strided<[64, 1], offset: ?>>, %b: memref<64x32xf32, strided<[32, 1], offset: ?>>, %c: memref<8x32xf32, strided<[32, 1], offset: ?>>) {
  "hwprim.fma_microkernel"(%a, %b, %c) {vector_width = 16 : i64} : (memref<8x64xf32, strided<[64, 1], offset: ?>>, memref<64x32xf32, strided<[32, 1], offset: ?>>, memref<8x32xf32, strided<[32, 1], offset: ?>>) -> ()
  return
}

// -----

// AVX2 width: 20 columns are two 8-lane registers and a 4-lane remainder per row.
// CHECK-LABEL: func.func @avx2_remainder
// CHECK-COUNT-2: vector.fma %{{.*}} : vector<8xf32>
// CHECK: vector.fma %{{.*}} : vector<4xf32>
// CHECK-NOT: vector.fma
func.func @avx2_remainder(%a: memref<1x5xf32>, %b: memref<5x20xf32>, %c: memref<1x20xf32>) {
  "hwprim.fma_microkernel"(%a, %b, %c) {vector_width = 8 : i64} : (memref<1x5xf32>, memref<5x20xf32>, memref<1x20xf32>) -> ()
  return
}

// -----

// The int8 kernel: per k step of 4, one 64-byte load of packed rhs per accumulator vector,
// 4 lhs bytes per row broadcast as one i32, and a vpdpbusd per accumulator.
// CHECK-LABEL: llvm.func @llvm.x86.avx512.vpdpbusd.512(vector<16xi32>, vector<64xi8>, vector<64xi8>) -> vector<16xi32>
// CHECK-LABEL: func.func @dot_i8
// CHECK-SAME: (%[[A:.*]]: memref<2x8xi8>, %[[B:.*]]: memref<2x64xi8>, %[[C:.*]]: memref<2x16xi32>)
// CHECK-NOT: hwprim
// CHECK: %[[ACC0:.*]] = vector.load %[[C]][%{{.*}}, %{{.*}}] : memref<2x16xi32>, vector<16xi32>
// CHECK: scf.for %[[K:.*]] = %{{.*}} to %{{.*}} step %{{.*}} iter_args({{.*}}) -> (vector<16xi32>, vector<16xi32>)
// CHECK: vector.load %[[B]][%[[K]], %{{.*}}] : memref<2x64xi8>, vector<64xi8>
// CHECK: %[[QUAD:.*]] = vector.load %[[A]][%{{.*}}, %{{.*}}] : memref<2x8xi8>, vector<4xi8>
// CHECK: %[[WORD:.*]] = vector.bitcast %[[QUAD]] : vector<4xi8> to vector<1xi32>
// CHECK: %[[SCALAR:.*]] = vector.extract %[[WORD]][0] : i32 from vector<1xi32>
// CHECK: %[[SPLAT:.*]] = vector.broadcast %[[SCALAR]] : i32 to vector<16xi32>
// CHECK: %[[BYTES:.*]] = vector.bitcast %[[SPLAT]] : vector<16xi32> to vector<64xi8>
// CHECK: llvm.call @llvm.x86.avx512.vpdpbusd.512(%{{.*}}, %[[BYTES]], %{{.*}}) {memory_effects = #llvm.memory_effects<other = none
// CHECK-COUNT-2: vector.store %{{.*}}, %[[C]]
func.func @dot_i8(%a: memref<2x8xi8>, %b: memref<2x64xi8>, %c: memref<2x16xi32>) {
  "hwprim.dot_i8_microkernel"(%a, %b, %c) {vector_width = 16 : i64} : (memref<2x8xi8>, memref<2x64xi8>, memref<2x16xi32>) -> ()
  return
}
