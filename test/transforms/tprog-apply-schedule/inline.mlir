// RUN: strata-opt %s --graph-fuse-ops --convert-graph-to-tprog --tprog-apply-schedule=file=%S/Inputs/inline.sched | FileCheck %s --check-prefix=INLINE
// RUN: strata-opt %s --graph-fuse-ops --convert-graph-to-tprog --tprog-apply-schedule=file=%S/Inputs/reverse-inline.sched | FileCheck %s --check-prefix=REVERSE

// compute_inline("add"): the relu block computes the sum itself; the add block is gone.
// INLINE-LABEL: func.func private @fused_add_relu
// INLINE-SAME: (%[[X:.*]]: memref<8x16xf32>, %[[Y:.*]]: memref<16xf32>, %[[OUT:.*]]: memref<8x16xf32>)
// INLINE-NOT: name = "add"
// INLINE: ^bb0(%[[I:.*]]: index, %[[J:.*]]: index):
// INLINE: %[[A:.*]] = memref.load %[[X]][%[[I]], %[[J]]]
// INLINE: %[[B:.*]] = memref.load %[[Y]][%[[J]]]
// INLINE: %[[S:.*]] = arith.addf %[[A]], %[[B]]
// INLINE: %[[R:.*]] = arith.maximumf %[[S]], %{{.*}}
// INLINE: memref.store %[[R]], %[[OUT]][%[[I]], %[[J]]]
// INLINE: name = "relu"

// reverse_compute_inline("relu"): the add block applies relu before its store.
// REVERSE-LABEL: func.func private @fused_add_relu
// REVERSE: %[[S:.*]] = arith.addf
// REVERSE: %[[R:.*]] = arith.maximumf %[[S]], %{{.*}}
// REVERSE: memref.store %[[R]]
// REVERSE: name = "add"
// REVERSE-NOT: name = "relu"
func.func @f(%x: tensor<8x16xf32>, %y: tensor<16xf32>) -> tensor<8x16xf32> {
  %0 = "graph.add"(%x, %y) : (tensor<8x16xf32>, tensor<16xf32>) -> tensor<8x16xf32>
  %1 = "graph.relu"(%0) : (tensor<8x16xf32>) -> tensor<8x16xf32>
  return %1 : tensor<8x16xf32>
}
