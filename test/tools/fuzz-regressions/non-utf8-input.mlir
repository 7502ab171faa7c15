// Found by the strata-opt fuzzer (python -m strata.fuzz.driver): input that is not UTF-8
// text gave `internal error: UnicodeDecodeError`; it is now a clear error naming the byte.
// RUN: not strata-opt %s 2>&1 | FileCheck %s
// RUN: not strata-opt - < %s 2>&1 | FileCheck %s --check-prefix=STDIN

// CHECK: strata-opt: error: cannot open input file '{{.*}}non-utf8-input.mlir': not UTF-8 text (byte 0xff at line 10, column 27)
// CHECK-NOT: internal error
// STDIN: strata-opt: error: cannot open input file '-': not UTF-8 text (byte 0xff at line 10, column 27)

func.func @f() { return } ÿ
