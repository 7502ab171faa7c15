// strata-translate turns the LLVM dialect into LLVM IR and rejects anything else with a
// located error.
// RUN: strata-translate --mlir-to-llvmir %s | FileCheck %s
// RUN: sed -e 's/^llvm.func @add/func.func @add/' %s | not strata-translate --mlir-to-llvmir 2>&1 | FileCheck %s --check-prefix=NOT-LLVM
// RUN: not strata-translate --mlir-to-llvmir %s.missing 2>&1 | FileCheck %s --check-prefix=MISSING
// RUN: not strata-translate %s 2>&1 | FileCheck %s --check-prefix=NO-MODE

// CHECK-LABEL: define i32 @add(i32 %0, i32 %1)
// CHECK-NEXT: %[[S:.*]] = add i32 %0, %1
// CHECK-NEXT: ret i32 %[[S]]

// NOT-LLVM: <stdin>:[[@LINE+3]]:{{[0-9]+}}: error: 'func.func' is not in the LLVM dialect; lower the module first (strata-opt --strata-lower-to-llvm)
// MISSING: strata-translate: error: cannot open input file '{{.*}}strata-translate.mlir.missing': No such file or directory
// NO-MODE: error: one of the arguments --mlir-to-llvmir --to-ptx --to-cubin is required
llvm.func @add(%a: i32, %b: i32) -> i32 {
  %s = llvm.add %a, %b : i32
  llvm.return %s : i32
}
