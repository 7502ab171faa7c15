// RUN: strata-opt %s --graph-fuse-ops --convert-graph-to-tprog --tprog-gpu-schedule=trace-file=%t.sched > %t.scheduled.mlir
// RUN: FileCheck %s --input-file=%t.sched
// RUN: strata-opt %s --graph-fuse-ops --convert-graph-to-tprog --tprog-apply-schedule=file=%t.sched > %t.replayed.mlir
// RUN: diff %t.scheduled.mlir %t.replayed.mlir

// The default schedules are traces of Schedule primitives: written with trace-file, replayed by
// tprog-apply-schedule, they give the same program.
// A softmax over rows of 100: each nest bound row by row, then merged into one kernel.
// CHECK: # schedule: softmax
// CHECK-NEXT: sch.bind("i0", thread_axis="blockIdx.x")
// CHECK-NEXT: sch.split("r1", factors=[None, 64])  # -> r1_2, r1_3
// CHECK-NEXT: sch.reorder("r1_3", "r1_2")
// CHECK-NEXT: sch.rfactor("softmax_max", loop="r1_3")  # -> softmax_max_rf
// CHECK-NEXT: sch.bind("r1_3", thread_axis="threadIdx.x")
// CHECK-NEXT: sch.cache_write("softmax_max_rf", write_buffer_index=0, scope="local")  # -> softmax_max_rf_write_cache_0
// CHECK-NEXT: sch.cross_thread_reduction("softmax_max")
// CHECK-NEXT: sch.bind("i0_1", thread_axis="blockIdx.x")
// CHECK: sch.cross_thread_reduction("softmax_sum")
// CHECK: sch.merge("i0", "i0_1", "i0_2", "i0_3")  # -> i0
// A full reduction of 640 elements: one thread block, the threads sharing the reduction.
// CHECK: # schedule: reduce_sum
// CHECK-NEXT: sch.add_unit_loop("r0")  # -> unit
// CHECK-NEXT: sch.bind("unit", thread_axis="blockIdx.x")
// CHECK-NEXT: sch.split("r0", factors=[None, 256])  # -> r0_0, r0_1
// CHECK-NEXT: sch.reorder("r0_1", "r0_0")
// CHECK-NEXT: sch.rfactor("reduce_sum", loop="r0_1")  # -> reduce_sum_rf
// CHECK-NEXT: sch.bind("r0_1", thread_axis="threadIdx.x")
// CHECK-NEXT: sch.cache_write("reduce_sum_rf", write_buffer_index=0, scope="local")  # -> reduce_sum_rf_write_cache_0
// CHECK-NEXT: sch.cross_thread_reduction("reduce_sum")
// CHECK: # schedule: fused_matmul_add_relu
// CHECK-NEXT: sch.compute_inline("add")
// CHECK: sch.bind("i_0", thread_axis="blockIdx.y")
// CHECK: sch.cache_write("matmul", write_buffer_index=0, scope="local")  # -> matmul_write_cache_0
// CHECK-NEXT: sch.reverse_compute_inline("relu")
// CHECK: sch.cache_read("matmul", read_buffer_index=0, scope="shared")  # -> matmul_read_cache_0
// CHECK: sch.compute_at("matmul_read_cache_0", loop="k_0")
// CHECK-NEXT: sch.cooperative_fetch("matmul_read_cache_0")
func.func @f(%x: tensor<40x16xf32>, %w: tensor<16x36xf32>, %b: tensor<36xf32>, %y: tensor<3x100xf32>) -> (tensor<40x36xf32>, tensor<f32>, tensor<3x100xf32>) {
  %0 = "graph.matmul"(%x, %w) : (tensor<40x16xf32>, tensor<16x36xf32>) -> tensor<40x36xf32>
  %1 = "graph.add"(%0, %b) : (tensor<40x36xf32>, tensor<36xf32>) -> tensor<40x36xf32>
  %2 = "graph.relu"(%1) : (tensor<40x36xf32>) -> tensor<40x36xf32>
  %3 = "graph.reduce_sum"(%x) {axes = array<i64: 0, 1>, keepdim = false} : (tensor<40x16xf32>) -> tensor<f32>
  %4 = "graph.softmax"(%y) {axis = 1 : i64} : (tensor<3x100xf32>) -> tensor<3x100xf32>
  return %2, %3, %4 : tensor<40x36xf32>, tensor<f32>, tensor<3x100xf32>
}
