// `strata run` and `strata compile` on model files: the per-level summary, and one-line errors.
// RUN: strata run %s | FileCheck %s --check-prefix=RUN-MLIR
// RUN: strata run %S/Inputs/tiny_model.py --repeat 2 | FileCheck %s --check-prefix=RUN-PY
// RUN: strata compile %S/Inputs/tiny_model.py --compile-to graph 2>&1 | FileCheck %s --check-prefix=COMPILE
// RUN: not strata run %s.missing 2>&1 | FileCheck %s --check-prefix=MISSING
// RUN: not strata run %S/Inputs/model.txt 2>&1 | FileCheck %s --check-prefix=SUFFIX
// RUN: not strata run %S/Inputs/no_model.py 2>&1 | FileCheck %s --check-prefix=NO-MODEL
// RUN: not strata run %S/Inputs/unsupported_model.py 2>&1 | FileCheck %s --check-prefix=UNSUPPORTED
// RUN: not strata run %s --threads 0 2>&1 | FileCheck %s --check-prefix=THREADS

// RUN-MLIR: imported through MLIR
// RUN-MLIR-NEXT: imported {{.*}}graph 1
// RUN-MLIR-NEXT: graph
// RUN-MLIR-NEXT: tprog {{.*}}1 tensor programs, 1 blocks
// RUN-MLIR-NEXT: libcall/hwprim {{.*}}library calls: none
// RUN-MLIR-NEXT: llvm {{.*}}LLVM functions
// RUN-MLIR: no framework to compare with

// RUN-PY: tiny_model.py: imported through torch.export
// RUN-PY: graph {{.*}}2 fused groups
// RUN-PY: hwprim micro-kernels: 2
// RUN-PY: PyTorch {{.*}} eager
// RUN-PY: output 0: 2x8  max relative error {{.*}}  OK

// COMPILE: graph {{.*}}2 fused groups, 0 unfused ops
// COMPILE-NOT: tprog
// COMPILE: func.func private @fused_matmul_add_gelu
// COMPILE-NOT: tprog.block

// MISSING: error: no such model file: '{{.*}}strata-run.mlir.missing'
// SUFFIX: error: '{{.*}}model.txt': expected a .py model file, an .onnx file or a .mlir file
// NO-MODEL: error: {{.*}}no_model.py: a model file defines `model` (a torch.nn.Module) and `example_inputs` (a tuple of tensors)
// UNSUPPORTED-DAG: unsupported_model.py:8:{{[0-9]+}}: error: unsupported op 'aten.cumsum.default'
// UNSUPPORTED-DAG: unsupported_model.py:9:{{[0-9]+}}: error: unsupported op 'aten.sort.default'
// THREADS: strata: error: --threads must be at least 1, got 0

func.func @f(%x: tensor<4xf32>) -> tensor<4xf32> {
  %r = "graph.relu"(%x) : (tensor<4xf32>) -> tensor<4xf32>
  return %r : tensor<4xf32>
}
