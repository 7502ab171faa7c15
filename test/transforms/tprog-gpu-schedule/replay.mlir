// RUN: strata-opt %s --graph-fuse-ops --convert-graph-to-tprog --tprog-gpu-schedule=trace-file=%t.sched > %t.scheduled.mlir
// RUN: FileCheck %s --input-file=%t.sched
// RUN: strata-opt %s --graph-fuse-ops --convert-graph-to-tprog --tprog-apply-schedule=file=%t.sched > %t.replayed.mlir
// RUN: diff %t.scheduled.mlir %t.replayed.mlir

// The default schedules are traces of Schedule primitives: written with trace-file, replayed by
// tprog-apply-schedule, they give the same program.
// CHECK: # schedule: reduce_sum
// CHECK-NEXT: sch.add_unit_loop("r0")  # -> unit
// CHECK-NEXT: sch.bind("unit", thread_axis="blockIdx.x")
// CHECK-NEXT: sch.cache_write("reduce_sum", write_buffer_index=0, scope="local")
// CHECK: # schedule: fused_matmul_add_relu
// CHECK-NEXT: sch.compute_inline("add")
// CHECK: sch.bind("i_0", thread_axis="blockIdx.y")
// CHECK: sch.cache_write("matmul", write_buffer_index=0, scope="local")  # -> matmul_write_cache_0
// CHECK-NEXT: sch.reverse_compute_inline("relu")
// CHECK: sch.cache_read("matmul", read_buffer_index=0, scope="shared")  # -> matmul_read_cache_0
// CHECK: sch.compute_at("matmul_read_cache_0", loop="k_0")
// CHECK-NEXT: sch.cooperative_fetch("matmul_read_cache_0")
func.func @f(%x: tensor<40x16xf32>, %w: tensor<16x36xf32>, %b: tensor<36xf32>) -> (tensor<40x36xf32>, tensor<f32>) {
  %0 = "graph.matmul"(%x, %w) : (tensor<40x16xf32>, tensor<16x36xf32>) -> tensor<40x36xf32>
  %1 = "graph.add"(%0, %b) : (tensor<40x36xf32>, tensor<36xf32>) -> tensor<40x36xf32>
  %2 = "graph.relu"(%1) : (tensor<40x36xf32>) -> tensor<40x36xf32>
  %3 = "graph.reduce_sum"(%x) {axes = array<i64: 0, 1>, keepdim = false} : (tensor<40x16xf32>) -> tensor<f32>
  return %2, %3 : tensor<40x36xf32>, tensor<f32>
}
