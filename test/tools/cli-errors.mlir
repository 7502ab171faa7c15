// strata-opt reports command-line mistakes as one-line errors and exits with 1.
// RUN: not strata-opt %s --no-such-pass 2>&1 | FileCheck %s --check-prefix=UNKNOWN-PASS
// RUN: not strata-opt %s --graph-fuse-ops=bogus=1 2>&1 | FileCheck %s --check-prefix=UNKNOWN-OPTION
// RUN: not strata-opt %s --canonicalize=bogus=1 2>&1 | FileCheck %s --check-prefix=UPSTREAM-OPTION
// RUN: not strata-opt %s --convert-tprog-to-hwprim=vector-width=abc 2>&1 | FileCheck %s --check-prefix=BAD-INT
// RUN: not strata-opt %s --strata-lower-to-llvm=use-libcall=maybe 2>&1 | FileCheck %s --check-prefix=BAD-BOOL
// RUN: not strata-opt %s --strata-lower-to-llvm=target=gpu 2>&1 | FileCheck %s --check-prefix=BAD-ENUM
// RUN: not strata-opt %s --pass-pipeline='builtin.module(func.func(graph-dce))' 2>&1 | FileCheck %s --check-prefix=NESTED
// RUN: not strata-opt %s.missing 2>&1 | FileCheck %s --check-prefix=MISSING
// RUN: not strata-opt %s --pass-pipeline='builtin.module(cse)' --canonicalize 2>&1 | FileCheck %s --check-prefix=BOTH
// RUN: not strata-opt %s --convert-graph-to-libcall=matmul=mkl.sgemm 2>&1 | FileCheck %s --check-prefix=BAD-LIBRARY
// RUN: not strata-opt %s --strata-lower-to-llvm=vector-width=3 2>&1 | FileCheck %s --check-prefix=BAD-WIDTH
// RUN: not strata-opt %s --pass-pipeline='builtin.module(affine-loop-unroll)' 2>&1 | FileCheck %s --check-prefix=SCHEDULE

// UNKNOWN-PASS: strata-opt: error: unknown pass 'no-such-pass'; `strata-opt --help` lists the passes
// UNKNOWN-OPTION: strata-opt: error: 'graph-fuse-ops' has no option 'bogus'; valid options: none
// UPSTREAM-OPTION: strata-opt: error: {{.*}}no such option bogus
// BAD-INT: strata-opt: error: invalid value 'abc' for option 'vector-width' of 'convert-tprog-to-hwprim': expected int
// BAD-BOOL: strata-opt: error: invalid value 'maybe' for option 'use-libcall' of 'strata-lower-to-llvm': expected bool
// BAD-ENUM: strata-opt: error: invalid value 'gpu' for option 'target' of 'strata-lower-to-llvm': expected cpu
// NESTED: strata-opt: error: Strata pass 'graph-dce' runs on builtin.module; move it out of 'func.func(...)'
// MISSING: strata-opt: error: cannot open input file '{{.*}}cli-errors.mlir.missing': No such file or directory
// BOTH: strata-opt: error: give passes either as flags or as --pass-pipeline, not both
// BAD-LIBRARY: strata-opt: error: invalid value 'mkl.sgemm' for option 'matmul' of 'convert-graph-to-libcall': expected a library function implementing libcall.matmul (cublas.gemm, openblas.sgemm)
// BAD-WIDTH: strata-opt: error: invalid value '3' for option 'vector-width' of 'strata-lower-to-llvm': expected 0 (host), 4, 8 or 16
// SCHEDULE: strata-opt: error: {{.*}}unable to schedule pass 'AffineLoopUnroll'
// SCHEDULE-NOT: error

func.func @f(%x: tensor<4xf32>) -> tensor<4xf32> {
  %r = "graph.relu"(%x) : (tensor<4xf32>) -> tensor<4xf32>
  return %r : tensor<4xf32>
}
