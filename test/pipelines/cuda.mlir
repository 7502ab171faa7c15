// strata-lower-to-llvm{target=cuda}: graph -> scheduled tensor programs -> gpu.launch -> NVVM ->
// PTX in one gpu.binary; the host side stays func/memref/gpu.launch_func (the launch manifest).
// RUN: strata-opt %s --strata-lower-to-llvm="target=cuda chip=sm_80" | FileCheck %s
// RUN: strata-opt %s --strata-lower-to-llvm="target=cuda chip=sm_90a" | FileCheck %s --check-prefix=SM90A
// RUN: strata-opt %s --strata-lower-to-llvm="target=cuda chip=sm_80" | strata-translate --to-ptx | FileCheck %s --check-prefix=PTX

// CHECK: module attributes {gpu.container_module}
// CHECK-LABEL: func.func @main
// CHECK-SAME: %[[OUT:[a-z0-9]+]]: memref<4x16xf32>)
// CHECK: call @fused_matmul_relu
// CHECK: call @softmax
// CHECK: gpu.launch_func @kernels::@softmax_kernel
// CHECK: gpu.binary @kernels [#gpu.object<#nvvm.target<O = 3, chip = "sm_80", features = "+ptx80">
// CHECK-NOT: gpu.module
// SM90A: gpu.binary @kernels [#gpu.object<#nvvm.target<O = 3, chip = "sm_90a", features = "+ptx80">
// PTX: .target sm_80
// PTX-DAG: .visible .entry fused_matmul_relu_kernel(
// PTX-DAG: .visible .entry softmax_kernel(
func.func @main(%x: tensor<4x8xf32>, %w: tensor<8x16xf32>) -> tensor<4x16xf32> {
  %0 = "graph.matmul"(%x, %w) : (tensor<4x8xf32>, tensor<8x16xf32>) -> tensor<4x16xf32>
  %1 = "graph.relu"(%0) : (tensor<4x16xf32>) -> tensor<4x16xf32>
  %2 = "graph.softmax"(%1) {axis = 1 : i64} : (tensor<4x16xf32>) -> tensor<4x16xf32>
  return %2 : tensor<4x16xf32>
}
