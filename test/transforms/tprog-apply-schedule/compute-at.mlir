// RUN: strata-opt %s --graph-fuse-ops --convert-graph-to-tprog --tprog-apply-schedule=file=%S/Inputs/compute-at.sched | FileCheck %s --check-prefix=AT
// RUN: strata-opt %s --graph-fuse-ops --convert-graph-to-tprog --tprog-apply-schedule=file=%S/Inputs/reverse-compute-at.sched | FileCheck %s --check-prefix=REVERSE

// compute_at("matmul", "i0_0"): each 8-row slab of relu first computes the 8 x 32 region of the
// matmul it reads, over new loops bound at the slab's offset.
// AT: #map{{[0-9]*}} = affine_map<(d0, d1) -> (d1 + d0 * 8)>
// AT-LABEL: func.func private @fused_matmul_relu
// AT: name = "matmul"
// AT: } {tprog.loop = "matmul_r2"}
// AT-NEXT: } {tprog.loop = "matmul_ax1"}
// AT-NEXT: } {tprog.loop = "matmul_ax0"}
// AT: name = "relu"
// AT: } {tprog.loop = "i1"}
// AT-NEXT: } {tprog.loop = "i0_1"}
// AT-NEXT: } {tprog.loop = "i0_0"}

// reverse_compute_at("relu", "i_0"): relu runs on each 4-row slab right after the matmul wrote it.
// REVERSE: #map{{[0-9]*}} = affine_map<(d0, d1) -> (d1 + d0 * 4)>
// REVERSE-LABEL: func.func private @fused_matmul_relu
// REVERSE: name = "matmul"
// REVERSE: } {tprog.loop = "i_1"}
// REVERSE: name = "relu"
// REVERSE: } {tprog.loop = "relu_ax1"}
// REVERSE-NEXT: } {tprog.loop = "relu_ax0"}
// REVERSE-NEXT: } {tprog.loop = "i_0"}
func.func @f(%x: tensor<16x64xf32>, %w: tensor<64x32xf32>) -> tensor<16x32xf32> {
  %0 = "graph.matmul"(%x, %w) : (tensor<16x64xf32>, tensor<64x32xf32>) -> tensor<16x32xf32>
  %1 = "graph.relu"(%0) : (tensor<16x32xf32>) -> tensor<16x32xf32>
  return %1 : tensor<16x32xf32>
}
