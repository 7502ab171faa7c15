// RUN: strata-opt %s --graph-dispatch-libcall | FileCheck %s --check-prefix=DEFAULT
// RUN: strata-opt %s --graph-dispatch-libcall=mode=never | FileCheck %s --check-prefix=NONE
// RUN: strata-opt %s '--graph-dispatch-libcall=rules=graph.matmul:none' | FileCheck %s --check-prefix=NONE
// RUN: strata-opt %s '--graph-dispatch-libcall=default-rules=false' | FileCheck %s --check-prefix=NONE
// RUN: strata-opt %s '--graph-dispatch-libcall{default-rules=false rules=graph.matmul:openblas.sgemm}' | FileCheck %s --check-prefix=DEFAULT
// RUN: not strata-opt %s '--graph-dispatch-libcall=rules=graph.relu:openblas.sgemm' 2>&1 | FileCheck %s --check-prefix=BAD-OP
// RUN: not strata-opt %s '--graph-dispatch-libcall=rules=graph.matmul:mkl.sgemm' 2>&1 | FileCheck %s --check-prefix=BAD-FUNCTION
// RUN: not strata-opt %s '--graph-dispatch-libcall=rules=graph.matmul' 2>&1 | FileCheck %s --check-prefix=MALFORMED

// By default (and with an explicit rule), the f32 matmuls, 2-D and batched, call BLAS through a
// tensor program holding one libcall.matmul each; the f16 matmul, which sgemm does not take, stays.
// With mode=never, a `none` rule, or no rules at all, nothing is dispatched.
// DEFAULT-LABEL: func.func @mlp
// DEFAULT-SAME: (%[[X:.*]]: tensor<16x64xf32>, %[[W:.*]]: tensor<64x32xf32>
// DEFAULT: %[[BX:.*]] = bufferization.to_buffer %[[X]] read_only
// DEFAULT: %[[BW:.*]] = bufferization.to_buffer %[[W]] read_only
// DEFAULT: %[[OUT:.*]] = memref.alloc() : memref<16x32xf32>
// DEFAULT: call @openblas_sgemm(%[[BX]], %[[BW]], %[[OUT]])
// DEFAULT: call @[[BATCHED:openblas_sgemm_[0-9]+]](%{{.*}}, %{{.*}}, %{{.*}}) : (memref<2x4x8xf32>, memref<8x3xf32>, memref<2x4x3xf32>)
// DEFAULT: "graph.matmul"(%{{.*}}, %{{.*}}) : (tensor<4x8xf16>, tensor<8x3xf16>)
// DEFAULT: func.func private @[[BATCHED]](
// DEFAULT-NEXT: "libcall.matmul"(%{{.*}}, %{{.*}}, %{{.*}}) {callee = "openblas.sgemm"} : (memref<2x4x8xf32>, memref<8x3xf32>, memref<2x4x3xf32>)
// DEFAULT-LABEL: func.func private @openblas_sgemm(
// DEFAULT-SAME: %[[L:.*]]: memref<16x64xf32>, %[[R:.*]]: memref<64x32xf32>, %[[O:.*]]: memref<16x32xf32>) attributes {tprog.prim_func}
// DEFAULT-NEXT: "libcall.matmul"(%[[L]], %[[R]], %[[O]]) {callee = "openblas.sgemm"}
// DEFAULT-NEXT: return
// DEFAULT-NOT: libcall.matmul
// NONE-LABEL: func.func @mlp
// NONE-COUNT-3: "graph.matmul"
// NONE-NOT: libcall
// BAD-OP: error: option 'rules' of 'graph-dispatch-libcall': invalid dispatch rule 'graph.relu:openblas.sgemm': no library takes 'graph.relu'; ops with a libcall form: graph.matmul
// BAD-FUNCTION: error: option 'rules' of 'graph-dispatch-libcall': invalid dispatch rule 'graph.matmul:mkl.sgemm': 'mkl.sgemm' is not a library function implementing libcall.matmul; expected one of: cublas.gemm, openblas.sgemm, none
// MALFORMED: error: option 'rules' of 'graph-dispatch-libcall': malformed dispatch rule 'graph.matmul': expected <graph op>:<function>
func.func @mlp(%x: tensor<16x64xf32>, %w: tensor<64x32xf32>, %a: tensor<2x4x8xf32>, %b: tensor<8x3xf32>, %c: tensor<4x8xf16>, %d: tensor<8x3xf16>) -> (tensor<16x32xf32>, tensor<2x4x3xf32>, tensor<4x3xf16>) {
  %0 = "graph.matmul"(%x, %w) : (tensor<16x64xf32>, tensor<64x32xf32>) -> tensor<16x32xf32>
  %1 = "graph.matmul"(%a, %b) : (tensor<2x4x8xf32>, tensor<8x3xf32>) -> tensor<2x4x3xf32>
  %2 = "graph.matmul"(%c, %d) : (tensor<4x8xf16>, tensor<8x3xf16>) -> tensor<4x3xf16>
  return %0, %1, %2 : tensor<16x32xf32>, tensor<2x4x3xf32>, tensor<4x3xf16>
}
