// Found by the strata-opt fuzzer (python -m strata.fuzz.driver): an output path that is a
// directory, or in a directory that does not exist, gave `internal error: IsADirectoryError` /
// `FileNotFoundError`; it is now a clear error naming the path.
// RUN: rm -rf %t && mkdir -p %t
// RUN: not strata-opt %s -o %t 2>&1 | FileCheck %s --check-prefix=DIR
// RUN: not strata-opt %s -o %t/missing/out.mlir 2>&1 | FileCheck %s --check-prefix=MISSING

// DIR: strata-opt: error: cannot write output file '{{.*}}': Is a directory
// DIR-NOT: internal error
// MISSING: strata-opt: error: cannot write output file '{{.*}}missing/out.mlir': No such file or directory
// MISSING-NOT: internal error

func.func @f(%x: tensor<4xf32>) -> tensor<4xf32> {
  %r = "graph.relu"(%x) : (tensor<4xf32>) -> tensor<4xf32>
  return %r : tensor<4xf32>
}
