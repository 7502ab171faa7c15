// An MLP layer (16x64 input, 64x32 weights, bias, relu) through the whole pipeline.
// RUN: strata-opt %s --strata-lower-to-llvm | FileCheck %s --check-prefixes=LLVM,TENSORIZE
// RUN: strata-opt %s --strata-lower-to-llvm=use-libcall=false | FileCheck %s --check-prefixes=LLVM,TENSORIZE
// RUN: strata-opt %s --strata-lower-to-llvm=use-libcall=true | FileCheck %s --check-prefixes=LLVM,LIBCALL
// RUN: strata-opt %s '--strata-lower-to-llvm{use-libcall=false tensorize=false}' | FileCheck %s --check-prefixes=LLVM,SCALAR
// RUN: strata-opt %s --strata-lower-to-llvm | FileCheck %s --check-prefix=CLEAN
// RUN: strata-opt %s --strata-lower-to-llvm=use-libcall=true | FileCheck %s --check-prefix=CLEAN
// RUN: strata-opt %s --strata-lower-to-llvm | strata-translate --mlir-to-llvmir | FileCheck %s --check-prefix=IR
// RUN: strata-opt %s --strata-lower-to-llvm=vector-width=16 | strata-translate --mlir-to-llvmir | llc -O3 -mattr=+avx512f,+fma | FileCheck %s --check-prefix=ASM
// RUN: strata-opt %s --strata-lower-to-llvm=use-libcall=true | strata-translate --mlir-to-llvmir | FileCheck %s --check-prefix=IR-LIBCALL

// Nothing but the LLVM dialect is left.
// CLEAN-NOT: "graph.
// CLEAN-NOT: "tprog.
// CLEAN-NOT: "hwprim.
// CLEAN-NOT: "libcall.
// CLEAN-NOT: func.func
// CLEAN-NOT: scf.
// CLEAN-NOT: memref.
// CLEAN-NOT: vector.
// CLEAN-NOT: bufferization.
// CLEAN-NOT: unrealized_conversion_cast

// LLVM-DAG: llvm.func @mlp(
// LLVM-DAG: llvm.func @_mlir_ciface_mlp(%{{.*}}: !llvm.ptr, %{{.*}}: !llvm.ptr, %{{.*}}: !llvm.ptr, %{{.*}}: !llvm.ptr) attributes {llvm.emit_c_interface}

// The tensorized matmul is vector FMAs on whole tile rows.
// TENSORIZE: llvm.func @fused_matmul_add_relu(
// TENSORIZE: llvm.intr.fmuladd({{.*}}) : (vector<{{[0-9]+}}xf32>, vector<{{[0-9]+}}xf32>, vector<{{[0-9]+}}xf32>)
// TENSORIZE-NOT: scipy_cblas_sgemm

// With the library, the matmul is an OpenBLAS call and only add + relu are fused.
// LIBCALL-DAG: llvm.func @scipy_cblas_sgemm(i32, i32, i32, i32, i32, i32, f32, !llvm.ptr, i32, !llvm.ptr, i32, f32, !llvm.ptr, i32)
// LIBCALL-DAG: llvm.call @scipy_cblas_sgemm(
// LIBCALL-DAG: llvm.func @fused_add_relu(
// LIBCALL-NOT: llvm.intr.fmuladd

// Without tensorization the matmul stays scalar.
// SCALAR: llvm.func @fused_matmul_add_relu(
// SCALAR-NOT: vector<

// IR-DAG: define void @mlp(
// IR-DAG: define void @_mlir_ciface_mlp(ptr %{{.*}}, ptr %{{.*}}, ptr %{{.*}}, ptr %{{.*}})
// IR-DAG: call <{{[0-9]+}} x float> @llvm.fmuladd.v{{[0-9]+}}f32(

// IR-LIBCALL-DAG: define void @_mlir_ciface_mlp(
// IR-LIBCALL-DAG: declare void @scipy_cblas_sgemm(i32, i32, i32, i32, i32, i32, float, ptr, i32, ptr, i32, float, ptr, i32)

// ASM-LABEL: fused_matmul_add_relu:
// ASM: vfmadd{{[0-9]+}}ps {{.*}}%zmm{{[0-9]+}}, %zmm{{[0-9]+}}

func.func @mlp(%x: tensor<16x64xf32>, %w: tensor<64x32xf32>, %b: tensor<32xf32>) -> tensor<16x32xf32> {
  %0 = "graph.matmul"(%x, %w) : (tensor<16x64xf32>, tensor<64x32xf32>) -> tensor<16x32xf32>
  %1 = "graph.add"(%0, %b) : (tensor<16x32xf32>, tensor<32xf32>) -> tensor<16x32xf32>
  %2 = "graph.relu"(%1) : (tensor<16x32xf32>) -> tensor<16x32xf32>
  return %2 : tensor<16x32xf32>
}
