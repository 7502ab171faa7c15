// RUN: strata-opt %s --split-input-file --convert-libcall-to-func | FileCheck %s

// openblas.sgemm becomes a call of scipy_cblas_sgemm (row-major, no transpose, M N K, alpha,
// pointers with leading dimensions, beta) and a private declaration of the symbol.
// CHECK-LABEL: func.func private @scipy_cblas_sgemm(i32, i32, i32, i32, i32, i32, f32, !llvm.ptr, i32, !llvm.ptr, i32, f32, !llvm.ptr, i32)
// CHECK-LABEL: func.func private @sgemm
// CHECK-SAME: (%[[A:.*]]: memref<16x64xf32>, %[[B:.*]]: memref<64x32xf32>, %[[C:.*]]: memref<16x32xf32>)
// CHECK-NOT: libcall.matmul
// CHECK: memref.extract_strided_metadata %[[A]]
// CHECK: memref.extract_aligned_pointer_as_index %[[A]]
// CHECK: %[[PA:.*]] = llvm.inttoptr
// CHECK: %[[LDA:.*]] = arith.index_cast %{{.*}}#0 : index to i32
// CHECK: memref.extract_aligned_pointer_as_index %[[B]]
// CHECK: %[[PB:.*]] = llvm.inttoptr
// CHECK: %[[LDB:.*]] = arith.index_cast %{{.*}}#0 : index to i32
// CHECK: memref.extract_aligned_pointer_as_index %[[C]]
// CHECK: %[[PC:.*]] = llvm.inttoptr
// CHECK: %[[LDC:.*]] = arith.index_cast %{{.*}}#0 : index to i32
// CHECK: %[[ROW_MAJOR:.*]] = arith.constant 101 : i32
// CHECK: %[[NO_TRANS_A:.*]] = arith.constant 111 : i32
// CHECK: %[[NO_TRANS_B:.*]] = arith.constant 111 : i32
// CHECK: %[[M:.*]] = arith.constant 16 : i32
// CHECK: %[[N:.*]] = arith.constant 32 : i32
// CHECK: %[[K:.*]] = arith.constant 64 : i32
// CHECK: %[[ALPHA:.*]] = arith.constant 1.000000e+00 : f32
// CHECK: %[[BETA:.*]] = arith.constant 0.000000e+00 : f32
// CHECK: call @scipy_cblas_sgemm(%[[ROW_MAJOR]], %[[NO_TRANS_A]], %[[NO_TRANS_B]], %[[M]], %[[N]], %[[K]], %[[ALPHA]], %[[PA]], %[[LDA]], %[[PB]], %[[LDB]], %[[BETA]], %[[PC]], %[[LDC]]) : (i32, i32, i32, i32, i32, i32, f32, !llvm.ptr, i32, !llvm.ptr, i32, f32, !llvm.ptr, i32) -> ()
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
