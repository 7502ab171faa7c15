// Upstream passes are accepted as flags and in pipelines, next to Strata passes.
// RUN: strata-opt %s --split-input-file --canonicalize | FileCheck %s --check-prefix=CANON
// RUN: strata-opt %s --split-input-file --affine-loop-invariant-code-motion | FileCheck %s --check-prefix=LICM
// A func-only pass given as a flag is nested under func.func, as mlir-opt does.
// RUN: strata-opt %s --split-input-file --affine-loop-unroll -o %t
// RUN: strata-opt %s --split-input-file --pass-pipeline='builtin.module(func.func(affine-loop-invariant-code-motion))' | FileCheck %s --check-prefix=LICM
// RUN: not strata-opt %s --split-input-file --pass-pipeline='builtin.module(affine-loop-invariant-code-motion)' 2>&1 | FileCheck %s --check-prefix=NO-NEST
// RUN: strata-opt %s --split-input-file --pass-pipeline='builtin.module(graph-fuse-ops,canonicalize,func.func(cse))' | FileCheck %s --check-prefix=MIXED

// Upstream canonicalization folds arith; it keeps graph ops (they are used).
// CANON-LABEL: func.func @fold
// CANON-NOT: arith.addi
// CANON: %[[C:.*]] = arith.constant 3 : index
// CANON: return %[[C]]
// LICM-LABEL: func.func @fold
// MIXED-LABEL: func.func @fold
func.func @fold() -> index {
  %a = arith.constant 1 : index
  %b = arith.constant 2 : index
  %c = arith.addi %a, %b : index
  return %c : index
}

// -----

// A pass restricted to func.func given as a flag is nested implicitly; in a pipeline it must
// be nested explicitly.
// LICM-LABEL: func.func @hoist
// LICM-SAME: (%[[M:.*]]: memref<8xf32>, %[[X:.*]]: f32)
// LICM-NEXT: %[[Y:.*]] = arith.addf %[[X]], %[[X]] : f32
// LICM-NEXT: affine.for
// LICM-NEXT: affine.store %[[Y]], %[[M]]
// NO-NEST: Can't add pass 'AffineLoopInvariantCodeMotion' restricted to 'func.func' on a PassManager intended to run on 'builtin.module', did you intend to nest?
// CANON-LABEL: func.func @hoist
// MIXED-LABEL: func.func @hoist
func.func @hoist(%m: memref<8xf32>, %x: f32) {
  affine.for %i = 0 to 8 {
    %y = arith.addf %x, %x : f32
    affine.store %y, %m[%i] : memref<8xf32>
  }
  return
}

// -----

// A pipeline mixes Strata and upstream passes, nested ones included.
// MIXED-LABEL: func.func @mixed
// MIXED: call @fused_add_relu
// MIXED-LABEL: func.func private @fused_add_relu
// CANON-LABEL: func.func @mixed
// LICM-LABEL: func.func @mixed
func.func @mixed(%x: tensor<4xf32>) -> tensor<4xf32> {
  %a = "graph.add"(%x, %x) : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  %r = "graph.relu"(%a) : (tensor<4xf32>) -> tensor<4xf32>
  return %r : tensor<4xf32>
}
