// strata-translate --to-ptx prints the PTX of a CUDA-lowered module; --to-cubin assembles it with
// ptxas. Modules without PTX are refused with a clear error.
// RUN: strata-opt %s --pass-pipeline='builtin.module(convert-tprog-to-gpu,gpu-launch-sink-index-computations,gpu-kernel-outlining,gpu-merge-kernel-modules,nvvm-attach-target{chip=sm_80 features=+ptx80 O=3},gpu.module(lower-affine,convert-scf-to-cf,convert-gpu-to-nvvm{use-bare-ptr-memref-call-conv=1},reconcile-unrealized-casts),gpu-module-to-binary{format=isa})' -o %t.mlir
// RUN: strata-translate --to-ptx %t.mlir | FileCheck %s
// RUN: not strata-translate --to-ptx %s 2>&1 | FileCheck %s --check-prefix=NO-BINARY
// RUN: not strata-translate --to-cubin %t.mlir 2>&1 | FileCheck %s --check-prefix=NO-OUTPUT

// CHECK: .target sm_80
// CHECK: .visible .entry negate_kernel(
// CHECK: .maxntid 64, 1, 1
// CHECK: mov.u32 {{.*}}%ctaid.x
// CHECK: mov.u32 {{.*}}%tid.x
// CHECK: neg.f32

// NO-BINARY: error: no gpu.binary in the module: lower it with strata-lower-to-llvm{target=cuda} first
// NO-OUTPUT: strata-translate: error: --to-cubin writes a binary file: give -o FILE
func.func @negate(%x: memref<256xf32>, %y: memref<256xf32>) attributes {tprog.prim_func} {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %c64 = arith.constant 64 : index
  scf.for %b = %c0 to %c4 step %c1 {
    scf.for %t = %c0 to %c64 step %c1 {
      %i = affine.apply affine_map<(d0, d1) -> (d0 * 64 + d1)>(%b, %t)
      %v = memref.load %x[%i] : memref<256xf32>
      %n = arith.negf %v : f32
      memref.store %n, %y[%i] : memref<256xf32>
    } {tprog.loop = "t", tprog.kind = "threadIdx.x"}
  } {tprog.loop = "b", tprog.kind = "blockIdx.x"}
  return
}
