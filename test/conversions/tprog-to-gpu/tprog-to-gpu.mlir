// RUN: strata-opt %s --split-input-file --convert-tprog-to-gpu | FileCheck %s

// Loops bound to blockIdx give the grid; a loop bound to threadIdx becomes the thread's own
// iteration; a shorter thread loop runs under a guard; a shared buffer becomes a workgroup global
// read at the top of the kernel; host buffers stay outside.
// CHECK: memref.global "private" @__shared : memref<8xf32, #gpu.address_space<workgroup>> {alignment = 16 : i64}
// CHECK-LABEL: func.func private @scale
// CHECK: %[[TMP:.*]] = memref.alloc() : memref<4x8xf32>
// CHECK: gpu.launch blocks(%{{.*}}, %{{.*}}, %{{.*}}) in (%{{.*}} = %[[GX:.*]], %{{.*}} = %[[GY:.*]], %{{.*}} = %{{.*}}) threads(%{{.*}}, %{{.*}}, %{{.*}}) in (%{{.*}} = %[[BX:.*]], %{{.*}} = %{{.*}}, %{{.*}} = %{{.*}})
// CHECK: %[[SH:.*]] = memref.get_global @__shared
// CHECK: %[[BY:.*]] = gpu.block_id  y
// CHECK: %[[TX:.*]] = gpu.thread_id  x
// CHECK: memref.load %arg0[%[[BY]], %[[TX]]]
// CHECK: memref.store %{{.*}}, %[[SH]][%[[TX]]]
// CHECK: gpu.barrier
// CHECK: %[[C4:.*]] = arith.constant 4 : index
// CHECK: %[[IN:.*]] = arith.cmpi ult, %[[TX]], %[[C4]] : index
// CHECK: scf.if %[[IN]] {
// CHECK: memref.load %[[SH]][%[[TX]]]
// CHECK: memref.store %{{.*}}, %[[TMP]][%[[BY]], %[[TX]]]
// CHECK: gpu.terminator
// CHECK-NOT: tprog.kind
func.func private @scale(%arg0: memref<4x8xf32>, %arg1: memref<4x8xf32>) attributes {tprog.prim_func} {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %c8 = arith.constant 8 : index
  %tmp = memref.alloc() : memref<4x8xf32>
  scf.for %i = %c0 to %c4 step %c1 {
    %sh = memref.alloc() : memref<8xf32, #gpu.address_space<workgroup>>
    scf.for %t = %c0 to %c8 step %c1 {
      %v = memref.load %arg0[%i, %t] : memref<4x8xf32>
      memref.store %v, %sh[%t] : memref<8xf32, #gpu.address_space<workgroup>>
    } {tprog.loop = "t", tprog.kind = "threadIdx.x"}
    gpu.barrier
    scf.for %t2 = %c0 to %c4 step %c1 {
      %w = memref.load %sh[%t2] : memref<8xf32, #gpu.address_space<workgroup>>
      memref.store %w, %tmp[%i, %t2] : memref<4x8xf32>
    } {tprog.loop = "t2", tprog.kind = "threadIdx.x"}
  } {tprog.loop = "i", tprog.kind = "blockIdx.y"}
  return
}

// -----

// Two blockIdx loops perfectly nested give a 2-D grid; serial loops stay loops in the kernel.
// CHECK-LABEL: func.func private @rows
// CHECK: gpu.launch blocks({{.*}}) in ({{.*}} = %c3{{[_0-9]*}}, {{.*}} = %c5{{[_0-9]*}}, {{.*}}) threads({{.*}}) in ({{.*}} = %c1{{[_0-9]*}},
// CHECK-DAG: gpu.block_id  x
// CHECK-DAG: gpu.block_id  y
// CHECK: scf.for
// CHECK: } {tprog.loop = "k"}
func.func private @rows(%arg0: memref<3x5x7xf32>, %arg1: memref<3x5xf32>) attributes {tprog.prim_func} {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c3 = arith.constant 3 : index
  %c5 = arith.constant 5 : index
  %c7 = arith.constant 7 : index
  %zero = arith.constant 0.0 : f32
  scf.for %i = %c0 to %c3 step %c1 {
    scf.for %j = %c0 to %c5 step %c1 {
      memref.store %zero, %arg1[%i, %j] : memref<3x5xf32>
      scf.for %k = %c0 to %c7 step %c1 {
        %a = memref.load %arg0[%i, %j, %k] : memref<3x5x7xf32>
        %s = memref.load %arg1[%i, %j] : memref<3x5xf32>
        %r = arith.addf %a, %s : f32
        memref.store %r, %arg1[%i, %j] : memref<3x5xf32>
      } {tprog.loop = "k"}
    } {tprog.loop = "j", tprog.kind = "blockIdx.y"}
  } {tprog.loop = "i", tprog.kind = "blockIdx.x"}
  return
}
