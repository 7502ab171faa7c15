// RUN: not strata-opt %s --strata-lower-to-llvm 2>&1 | FileCheck %s
// RUN: not strata-opt %s --graph-verify 2>&1 | FileCheck %s

// Found by the driver fuzzer: the unused tensor result of a call to a body-less function had no
// buffer owner; the upstream deallocation then stored to memref<?xi1> and finalize-memref-to-llvm
// aborted the process (SIGABRT). graph-verify now refuses the call, located.
// CHECK: external-call-result.mlir:[[@LINE+2]]:8: error: call of '@opaque', a function without a body, returns values: Strata compiles whole modules (give '@opaque' a body, or call a library function through libcall)
func.func @live_call(%x: tensor<4xf32>) -> tensor<4xf32> {
  %u = func.call @opaque(%x) : (tensor<4xf32>) -> tensor<4xf32>
  return %x : tensor<4xf32>
}
func.func private @opaque(tensor<4xf32>) -> tensor<4xf32>
