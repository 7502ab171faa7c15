// RUN: strata-opt %s --test-strata-miscompile | FileCheck %s
// RUN: strata-opt %s '--test-strata-miscompile=op=arith.maximumf' | FileCheck %s --check-prefix=MAX
// RUN: not strata-opt %s '--test-strata-miscompile=op=arith.divf' 2>&1 | FileCheck %s --check-prefix=BAD

// A deliberately wrong rewrite for testing strata bisect: the first mulf becomes an addf.
// CHECK-LABEL: func.func @f
// CHECK: arith.addf %arg0, %arg1
// CHECK: arith.mulf %arg0, %arg1
// MAX: arith.minimumf
// BAD: error: invalid value 'arith.divf' for option 'op' of 'test-strata-miscompile': expected one of arith.mulf, arith.addf, arith.maximumf
func.func @f(%a: f32, %b: f32) -> (f32, f32, f32) {
  %0 = arith.mulf %a, %b : f32
  %1 = arith.mulf %a, %b : f32
  %2 = arith.maximumf %a, %b : f32
  return %0, %1, %2 : f32, f32, f32
}
