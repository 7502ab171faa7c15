// REQUIRES: ptxas
// strata-translate --to-cubin assembles the PTX with ptxas for the chip the module was lowered for.
// RUN: strata-opt %S/strata-translate-ptx.mlir --pass-pipeline='builtin.module(convert-tprog-to-gpu,gpu-launch-sink-index-computations,gpu-kernel-outlining,gpu-merge-kernel-modules,nvvm-attach-target{chip=sm_90a features=+ptx80 O=3},gpu.module(lower-affine,convert-scf-to-cf,convert-gpu-to-nvvm{use-bare-ptr-memref-call-conv=1},reconcile-unrealized-casts),gpu-module-to-binary{format=isa})' -o %t.mlir
// RUN: strata-translate --to-cubin %t.mlir -o %t.cubin
// RUN: od -An -c -N4 %t.cubin | FileCheck %s
// CHECK: 177 E L F
