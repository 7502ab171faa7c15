// Options of strata-lower-to-llvm that do not fit target=cuda are refused before any pass runs.
// RUN: not strata-opt %s --strata-lower-to-llvm="target=cuda chip=sm_70" 2>&1 | FileCheck %s --check-prefix=CHIP
// RUN: not strata-opt %s --strata-lower-to-llvm="target=cuda cpu=avx2" 2>&1 | FileCheck %s --check-prefix=CPU-OPTION
// RUN: not strata-opt %s --strata-lower-to-llvm="target=cuda vector-width=8" 2>&1 | FileCheck %s --check-prefix=WIDTH
// RUN: not strata-opt %s --strata-lower-to-llvm="chip=sm_80" 2>&1 | FileCheck %s --check-prefix=NEEDS-CUDA
// RUN: not strata-opt %s --strata-lower-to-llvm="target=cuda dispatch=auto" 2>&1 | FileCheck %s --check-prefix=AUTO
// RUN: not strata-opt %s --strata-lower-to-llvm="target=rocm" 2>&1 | FileCheck %s --check-prefix=TARGET
// RUN: not strata-opt %s --strata-lower-to-llvm="tf32=true" 2>&1 | FileCheck %s --check-prefix=TF32
// RUN: not strata-opt %s --tprog-gpu-tensorize=chip=999 2>&1 | FileCheck %s --check-prefix=TENSORIZE
// RUN: not strata-opt %s --convert-hwprim-to-nvvm=chip=volta 2>&1 | FileCheck %s --check-prefix=NVVM

// CHIP: error: invalid value 'sm_70' for option 'chip' of 'strata-lower-to-llvm': expected sm_80, sm_86, sm_89, sm_90, sm_90a
// CPU-OPTION: error: option 'cpu' of 'strata-lower-to-llvm' is for target=cpu, not target=cuda
// WIDTH: error: option 'vector-width' of 'strata-lower-to-llvm' is for target=cpu, not target=cuda
// NEEDS-CUDA: error: option 'chip' of 'strata-lower-to-llvm' needs target=cuda
// AUTO: error: option 'dispatch=auto' of 'strata-lower-to-llvm' measures on this machine's CPU: use dispatch=always or never with target=cuda
// TENSORIZE: strata-opt: error: invalid value '999' for option 'chip' of 'tprog-gpu-tensorize': expected sm_<NN> or sm_<NN>a, e.g. sm_80, sm_90a
// NVVM: strata-opt: error: invalid value 'volta' for option 'chip' of 'convert-hwprim-to-nvvm'
// TF32: error: option 'tf32' of 'strata-lower-to-llvm' needs target=cuda
// TARGET: error: invalid value 'rocm' for option 'target' of 'strata-lower-to-llvm': expected cpu|cuda
func.func @f(%x: tensor<4xf32>) -> tensor<4xf32> {
  %0 = "graph.relu"(%x) : (tensor<4xf32>) -> tensor<4xf32>
  return %0 : tensor<4xf32>
}
/root/.pyenv/libexec/pyenv-hooks: line 24: enable: cannot open shared object /root/.pyenv/libexec/pyenv-realpath.dylib: /root/.pyenv/libexec/pyenv-realpath.dylib: cannot open shared object file: No such file or directory
