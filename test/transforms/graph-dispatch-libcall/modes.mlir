// The pass's option `mode` (always, the default, also spelled `rules`; never; auto) and the
// pipeline's option `dispatch` that selects it; invalid values name the valid ones.
// RUN: strata-opt %s --graph-dispatch-libcall=mode=always | FileCheck %s --check-prefix=LIB
// RUN: strata-opt %s --graph-dispatch-libcall=mode=rules | FileCheck %s --check-prefix=LIB
// RUN: strata-opt %s --graph-dispatch-libcall=mode=never | FileCheck %s --check-prefix=GEN
// RUN: not strata-opt %s --graph-dispatch-libcall=mode=fastest 2>&1 | FileCheck %s --check-prefix=BAD-MODE
// RUN: strata-opt %s --strata-lower-to-llvm=dispatch=always | FileCheck %s --check-prefix=LLVM-LIB
// RUN: strata-opt %s --strata-lower-to-llvm=use-libcall=true | FileCheck %s --check-prefix=LLVM-LIB
// RUN: strata-opt %s --strata-lower-to-llvm=dispatch=never | FileCheck %s --check-prefix=LLVM-GEN
// RUN: strata-opt %s --strata-lower-to-llvm | FileCheck %s --check-prefix=LLVM-GEN
// RUN: not strata-opt %s --strata-lower-to-llvm=dispatch=fastest 2>&1 | FileCheck %s --check-prefix=BAD-DISPATCH
// RUN: not strata-opt %s '--strata-lower-to-llvm{use-libcall=true dispatch=auto}' 2>&1 | FileCheck %s --check-prefix=CONFLICT
// RUN: not strata-opt %s --pass-pipeline='builtin.module(strata-lower-to-llvm{dispatch=sometimes})' 2>&1 | FileCheck %s --check-prefix=BAD-PIPELINE

// LIB-LABEL: func.func @layer
// LIB: call @openblas_sgemm
// LIB-LABEL: func.func private @openblas_sgemm
// LIB-NEXT: "libcall.matmul"
// GEN-LABEL: func.func @layer
// GEN: "graph.matmul"
// GEN-NOT: libcall
// LLVM-LIB: llvm.call @scipy_cblas_sgemm
// LLVM-GEN-LABEL: llvm.func @layer
// LLVM-GEN-NOT: scipy_cblas_sgemm
// BAD-MODE: strata-opt: error: invalid value 'fastest' for option 'mode' of 'graph-dispatch-libcall': expected never|always|auto
// BAD-DISPATCH: strata-opt: error: invalid value 'fastest' for option 'dispatch' of 'strata-lower-to-llvm': expected never|always|auto
// CONFLICT: strata-opt: error: options 'use-libcall=true' (dispatch=always) and 'dispatch=auto' of 'strata-lower-to-llvm' contradict each other: give only 'dispatch'
// BAD-PIPELINE: strata-opt: error: invalid value 'sometimes' for option 'dispatch' of 'strata-lower-to-llvm': expected never|always|auto
func.func @layer(%x: tensor<16x64xf32>, %w: tensor<64x32xf32>) -> tensor<16x32xf32> {
  %0 = "graph.matmul"(%x, %w) : (tensor<16x64xf32>, tensor<64x32xf32>) -> tensor<16x32xf32>
  return %0 : tensor<16x32xf32>
}
