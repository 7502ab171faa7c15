// The CPU micro-kernels in LLVM IR and machine code: the host-independent `cpu` presets pick the
// FMA vector width (16 f32 lanes on AVX-512, 8 on AVX2) and, for i8 matmuls, AVX-512 VNNI.
// RUN: strata-opt %s '--strata-lower-to-llvm{cpu=avx512-vnni}' | strata-translate --mlir-to-llvmir | FileCheck %s --check-prefix=AVX512
// RUN: strata-opt %s '--strata-lower-to-llvm{cpu=avx2}' | strata-translate --mlir-to-llvmir | FileCheck %s --check-prefix=AVX2
// RUN: strata-opt %s '--strata-lower-to-llvm{cpu=avx512-vnni}' | strata-translate --mlir-to-llvmir | llc -O3 -mattr=+avx512f,+avx512bw,+avx512vnni,+fma | FileCheck %s --check-prefix=ASM
// RUN: not strata-opt %s '--strata-lower-to-llvm{cpu=neon}' 2>&1 | FileCheck %s --check-prefix=BAD

// f32 matmul: the fma_microkernel's FMAs on 16-lane vectors (AVX-512) or 8-lane ones (AVX2).
// AVX512: call <16 x float> @llvm.fmuladd.v16f32
// AVX2-NOT: @llvm.fmuladd.v16f32
// AVX2: call <8 x float> @llvm.fmuladd.v8f32
// ASM: vfmadd{{[0-9]+}}ps {{.*}}zmm
func.func @f32(%x: tensor<16x64xf32>, %w: tensor<64x32xf32>) -> tensor<16x32xf32> {
  %0 = "graph.matmul"(%x, %w) : (tensor<16x64xf32>, tensor<64x32xf32>) -> tensor<16x32xf32>
  return %0 : tensor<16x32xf32>
}



// i8 matmul: dot_i8_microkernel's vpdpbusd on AVX-512 VNNI; AVX2 keeps generic integer code.
// AVX512: call <16 x i32> @llvm.x86.avx512.vpdpbusd.512(<16 x i32> %{{.*}}, <64 x i8> %{{.*}}, <64 x i8> %{{.*}})
// AVX2-NOT: vpdpbusd
// ASM: vpdpbusd {{.*}}zmm
func.func @i8(%x: tensor<16x64xi8>, %w: tensor<64x32xi8>) -> tensor<16x32xi32> {
  %0 = "graph.matmul"(%x, %w) : (tensor<16x64xi8>, tensor<64x32xi8>) -> tensor<16x32xi32>
  return %0 : tensor<16x32xi32>
}

// BAD: error: invalid value 'neon' for option 'cpu' of 'strata-lower-to-llvm': expected host, avx512-vnni, avx512, avx2, sse
