// RUN: not strata-opt %s --convert-graph-to-tprog --tprog-apply-schedule=file=%S/Inputs/unknown-loop.sched 2>&1 | FileCheck %s --check-prefix=UNKNOWN
// RUN: not strata-opt %s --convert-graph-to-tprog --tprog-apply-schedule=file=%S/Inputs/malformed.sched 2>&1 | FileCheck %s --check-prefix=MALFORMED
// RUN: not strata-opt %s --convert-graph-to-tprog --tprog-apply-schedule=file=%S/Inputs/missing.sched 2>&1 | FileCheck %s --check-prefix=MISSING

// A step naming a loop the function does not have is reported at its line in the trace file.
// UNKNOWN: {{.*}}unknown-loop.sched:3:1: error: no loop named 'q' in 'matmul'

// A step whose argument is not a literal is rejected when the trace is parsed, at its line.
// MALFORMED: {{.*}}malformed.sched:3:1: error: unsupported argument 'i_0 + 1'

// A trace file that cannot be read is reported on the input module.
// MISSING: {{.*}}errors.mlir:[[@LINE+1]]:1: error: cannot read schedule file '{{.*}}missing.sched': No such file or directory
module {
  func.func @mm(%x: tensor<16x64xf32>, %w: tensor<64x32xf32>) -> tensor<16x32xf32> {
    %0 = "graph.matmul"(%x, %w) : (tensor<16x64xf32>, tensor<64x32xf32>) -> tensor<16x32xf32>
    return %0 : tensor<16x32xf32>
  }
}
