// --help lists every Strata pass and pipeline with its options.
// RUN: strata-opt --help | FileCheck %s

// CHECK: Strata passes and pipelines:
// CHECK-DAG: --graph-verify
// CHECK-DAG: --graph-dce
// CHECK-DAG: --graph-fuse-ops
// CHECK-DAG: --convert-graph-to-tprog
// CHECK-DAG: --convert-graph-to-libcall
// CHECK-DAG: matmul=<str>
// CHECK-DAG: --convert-tprog-to-hwprim
// CHECK-DAG: vector-width=<int>
// CHECK-DAG: --func-emit-c-interface
// CHECK-DAG: --convert-tprog-to-scf
// CHECK-DAG: --convert-libcall-to-func
// CHECK-DAG: --convert-hwprim-to-vector
// CHECK-DAG: --strata-lower-to-llvm
// CHECK-DAG: use-libcall=<bool>
