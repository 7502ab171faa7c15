// Found by the strata-opt fuzzer (python -m strata.fuzz.driver): a schedule file that is not
// UTF-8 text gave `internal error: UnicodeDecodeError`; it is now a located error.
// RUN: python -c "open(r'%t', 'wb').write(b'# schedule: f\n\xff\n')"
// RUN: not strata-opt %s --convert-graph-to-tprog --tprog-apply-schedule=file=%t 2>&1 | FileCheck %s

// CHECK: schedule-file-not-utf8.mlir:{{[0-9]+}}:1: error: cannot read schedule file '{{.*}}': not UTF-8 text (byte 0xff at offset 14)
// CHECK-NOT: internal error

func.func @f(%a: tensor<4x8xf32>, %b: tensor<8x4xf32>) -> tensor<4x4xf32> {
  %r = "graph.matmul"(%a, %b) : (tensor<4x8xf32>, tensor<8x4xf32>) -> tensor<4x4xf32>
  return %r : tensor<4x4xf32>
}
