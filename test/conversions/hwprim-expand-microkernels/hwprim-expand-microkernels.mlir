// RUN: strata-opt %s --split-input-file --hwprim-expand-microkernels | FileCheck %s

// The f32 kernel becomes the register instructions it is made of: accumulator rows loaded into
// registers of the kernel's width (32 columns: two 16-lane registers per row), a K loop of one
// rhs load per register, one broadcast per row and one vfma per accumulator, then the stores.
// CHECK-LABEL: func.func @fma
// CHECK-SAME: (%[[A:.*]]: memref<2x3xf32>, %[[B:.*]]: memref<3x32xf32>, %[[C:.*]]: memref<2x32xf32>)
// CHECK-NOT: hwprim.fma_microkernel
// CHECK-COUNT-4: "hwprim.vload"(%[[C]], %{{.*}}, %{{.*}}) : (memref<2x32xf32>, index, index) -> vector<16xf32>
// CHECK: scf.for %[[K:.*]] = {{.*}} iter_args({{.*}}) -> (vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>)
// CHECK-COUNT-2: "hwprim.vload"(%[[B]], %[[K]], %{{.*}}) : (memref<3x32xf32>, index, index) -> vector<16xf32>
// CHECK: %[[A0:.*]] = memref.load %[[A]][%{{.*}}, %[[K]]]
// CHECK: %[[S0:.*]] = "hwprim.vbroadcast"(%[[A0]]) : (f32) -> vector<16xf32>
// CHECK-COUNT-2: "hwprim.vfma"(%[[S0]], %{{.*}}, %{{.*}}) : (vector<16xf32>, vector<16xf32>, vector<16xf32>) -> vector<16xf32>
// CHECK: scf.yield
// CHECK-COUNT-4: "hwprim.vstore"(%{{.*}}, %[[C]], %{{.*}}, %{{.*}}) : (vector<16xf32>, memref<2x32xf32>, index, index) -> ()
func.func @fma(%a: memref<2x3xf32>, %b: memref<3x32xf32>, %c: memref<2x32xf32>) {
  "hwprim.fma_microkernel"(%a, %b, %c) {vector_width = 16 : i64} : (memref<2x3xf32>, memref<3x32xf32>, memref<2x32xf32>) -> ()
  return
}

// -----

// The int8 kernel: per step of 4 k, a 64-byte rhs load, 4 lhs bytes broadcast as one i32 per
// row, and one dot_i8 (vpdpbusd) per accumulator register.
// CHECK-LABEL: func.func @dot_i8
// CHECK: scf.for
// CHECK: "hwprim.vload"(%{{.*}}) : (memref<2x64xi8>, index, index) -> vector<64xi8>
// CHECK: "hwprim.vload"(%{{.*}}) : (memref<2x8xi8>, index, index) -> vector<4xi8>
// CHECK: "hwprim.vbroadcast"(%{{.*}}) : (i32) -> vector<16xi32>
// CHECK: "hwprim.dot_i8"(%{{.*}}, %{{.*}}, %{{.*}}) : (vector<16xi32>, vector<64xi8>, vector<64xi8>) -> vector<16xi32>
func.func @dot_i8(%a: memref<2x8xi8>, %b: memref<2x64xi8>, %c: memref<2x16xi32>) {
  "hwprim.dot_i8_microkernel"(%a, %b, %c) {vector_width = 16 : i64} : (memref<2x8xi8>, memref<2x64xi8>, memref<2x16xi32>) -> ()
  return
}
