// IR printing and timing instrumentation, upstream-style.
// RUN: strata-opt %s --graph-verify --graph-fuse-ops --mlir-print-ir-after-all 2>&1 >/dev/null | FileCheck %s --check-prefix=AFTER-ALL
// RUN: strata-opt %s --graph-verify --graph-fuse-ops --mlir-print-ir-after=graph-fuse-ops 2>&1 >/dev/null | FileCheck %s --check-prefix=AFTER
// RUN: strata-opt %s --graph-verify --graph-fuse-ops --mlir-print-ir-before=graph-fuse-ops 2>&1 >/dev/null | FileCheck %s --check-prefix=BEFORE
// RUN: strata-opt %s --graph-fuse-ops --canonicalize --mlir-timing 2>&1 | FileCheck %s --check-prefix=TIMING

// AFTER-ALL: IR Dump After GraphVerifyPass (graph-verify)
// AFTER-ALL: IR Dump After GraphFuseOpsPass (graph-fuse-ops)
// AFTER-ALL: call @fused_add_relu

// AFTER-NOT: graph-verify
// AFTER: IR Dump After GraphFuseOpsPass (graph-fuse-ops)
// AFTER-NEXT: module {
// AFTER: call @fused_add_relu
// AFTER-NOT: IR Dump

// BEFORE: IR Dump Before GraphFuseOpsPass (graph-fuse-ops)
// BEFORE: "graph.add"
// BEFORE-NOT: call @fused_add_relu

// TIMING: Execution time report
// TIMING-DAG: GraphFuseOpsPass
// TIMING-DAG: Canonicalizer

func.func @f(%x: tensor<4xf32>) -> tensor<4xf32> {
  %a = "graph.add"(%x, %x) : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  %r = "graph.relu"(%a) : (tensor<4xf32>) -> tensor<4xf32>
  return %r : tensor<4xf32>
}
