// RUN: strata-opt %s --split-input-file --convert-libcall-to-func | FileCheck %s

// openblas.sgemm becomes a call of scipy_cblas_sgemm (row-major, transposes, M N K, alpha,
// pointers with leading dimensions, beta) and a private declaration of the symbol. Pointers are
// the aligned base plus the memref's offset; leading dimensions come from the static strides.
// CHECK-LABEL: func.func private @scipy_cblas_sgemm(i32, i32, i32, i32, i32, i32, f32, !llvm.ptr, i32, !llvm.ptr, i32, f32, !llvm.ptr, i32)
// CHECK-LABEL: func.func private @sgemm
// CHECK-SAME: (%[[A:.*]]: memref<16x64xf32>, %[[B:.*]]: memref<64x32xf32>, %[[C:.*]]: memref<16x32xf32>)
// CHECK-NOT: libcall.matmul
// CHECK: memref.extract_strided_metadata %[[A]]
// CHECK: memref.extract_aligned_pointer_as_index %[[A]]
// CHECK: %[[PA:.*]] = llvm.inttoptr
// CHECK: memref.extract_aligned_pointer_as_index %[[B]]
// CHECK: %[[PB:.*]] = llvm.inttoptr
// CHECK: memref.extract_aligned_pointer_as_index %[[C]]
// CHECK: %[[PC:.*]] = llvm.inttoptr
// CHECK: call @scipy_cblas_sgemm(%c101_i32, %c111_i32{{[_0-9]*}}, %c111_i32{{[_0-9]*}}, %c16_i32{{[_0-9]*}}, %c32_i32{{[_0-9]*}}, %c64_i32{{[_0-9]*}}, %cst{{[_0-9]*}}, %[[PA]], %c64_i32{{[_0-9]*}}, %[[PB]], %c32_i32{{[_0-9]*}}, %cst{{[_0-9]*}}, %[[PC]], %c32_i32{{[_0-9]*}}) : (i32, i32, i32, i32, i32, i32, f32, !llvm.ptr, i32, !llvm.ptr, i32, f32, !llvm.ptr, i32) -> ()
// CHECK-NEXT: return
func.func private @sgemm(%a: memref<16x64xf32>, %b: memref<64x32xf32>, %c: memref<16x32xf32>) attributes {tprog.prim_func} {
  "libcall.matmul"(%a, %b, %c) {callee = "openblas.sgemm"} : (memref<16x64xf32>, memref<64x32xf32>, memref<16x32xf32>) -> ()
  return
}

// -----

// Two calls share one declaration.
// CHECK-LABEL: func.func private @scipy_cblas_sgemm
// CHECK-NOT: func.func private @scipy_cblas_sgemm
// CHECK-LABEL: func.func @two
// CHECK: call @scipy_cblas_sgemm(
// CHECK: call @scipy_cblas_sgemm(
func.func @two(%a: memref<4x8xf32>, %b: memref<8x4xf32>, %c: memref<4x4xf32>) {
  "libcall.matmul"(%a, %b, %c) {callee = "openblas.sgemm"} : (memref<4x8xf32>, memref<8x4xf32>, memref<4x4xf32>) -> ()
  "libcall.matmul"(%a, %b, %c) {callee = "openblas.sgemm"} : (memref<4x8xf32>, memref<8x4xf32>, memref<4x4xf32>) -> ()
  return
}

// -----

// A transposed view (unit-stride columns) passes as Trans with its column stride as leading
// dimension; strided rows pass their row stride.
// CHECK-LABEL: func.func @transposed
// CHECK: call @scipy_cblas_sgemm(%c101_i32, %c111_i32{{[_0-9]*}}, %c112_i32{{[_0-9]*}}, %c4_i32{{[_0-9]*}}, %c4_i32{{[_0-9]*}}, %c8_i32{{[_0-9]*}}, %cst{{[_0-9]*}}, %{{.*}}, %c16_i32{{[_0-9]*}}, %{{.*}}, %c8_i32{{[_0-9]*}},
func.func @transposed(%a: memref<4x8xf32, strided<[16, 1], offset: ?>>, %b: memref<8x4xf32, strided<[1, 8]>>, %c: memref<4x4xf32>) {
  "libcall.matmul"(%a, %b, %c) {callee = "openblas.sgemm"} : (memref<4x8xf32, strided<[16, 1], offset: ?>>, memref<8x4xf32, strided<[1, 8]>>, memref<4x4xf32>) -> ()
  return
}

// -----

// Batches: loops over the outer batch dimensions around one cblas_sgemm_batch_strided over the
// innermost (batch strides 32, 0 for the broadcast rhs, 16; 3 matrices per call). A batched lhs
// times a 2-D rhs would be one sgemm on the collapsed rows instead.
// CHECK-LABEL: func.func private @scipy_cblas_sgemm_batch_strided(i32, i32, i32, i32, i32, i32, f32, !llvm.ptr, i32, i32, !llvm.ptr, i32, i32, f32, !llvm.ptr, i32, i32, i32)
// CHECK-LABEL: func.func @batched
// CHECK: scf.for %{{.*}} = %c0 to %c2 step %c1
// CHECK: call @scipy_cblas_sgemm_batch_strided({{.*}}, %c8_i32{{[_0-9]*}}, %c32_i32{{[_0-9]*}}, %{{.*}}, %c4_i32{{[_0-9]*}}, %c0_i32{{[_0-9]*}}, %cst{{[_0-9]*}}, %{{.*}}, %c4_i32{{[_0-9]*}}, %c16_i32{{[_0-9]*}}, %c3_i32{{[_0-9]*}})
func.func @batched(%a: memref<2x3x4x8xf32>, %b: memref<2x1x8x4xf32>, %c: memref<2x3x4x4xf32>) {
  "libcall.matmul"(%a, %b, %c) {callee = "openblas.sgemm"} : (memref<2x3x4x8xf32>, memref<2x1x8x4xf32>, memref<2x3x4x4xf32>) -> ()
  return
}

// -----

// A batched lhs with contiguous rows times a 2-D rhs is one sgemm over the collapsed rows (M = 24).
// CHECK-LABEL: func.func @collapsed
// CHECK-NOT: scf.for
// CHECK: call @scipy_cblas_sgemm(%c101_i32, %c111_i32{{[_0-9]*}}, %c111_i32{{[_0-9]*}}, %c24_i32{{[_0-9]*}}, %c4_i32{{[_0-9]*}}, %c8_i32{{[_0-9]*}},
func.func @collapsed(%a: memref<2x3x4x8xf32>, %b: memref<8x4xf32>, %c: memref<2x3x4x4xf32>) {
  "libcall.matmul"(%a, %b, %c) {callee = "openblas.sgemm"} : (memref<2x3x4x8xf32>, memref<8x4xf32>, memref<2x3x4x4xf32>) -> ()
  return
}
