// RUN: strata-opt %s --split-input-file --convert-tprog-to-hwprim | FileCheck %s
// RUN: strata-opt %s --split-input-file --convert-tprog-to-hwprim=vector-width=8 | FileCheck %s --check-prefix=AVX2

// A matmul block is tensorized: the init becomes its own block over (i, j) and the update
// becomes 8x32 tiles, each one micro-kernel on subviews, column panels outside. Small
// matmuls stay on one thread.
// CHECK-LABEL: func.func private @matmul
// CHECK-SAME: (%[[A:.*]]: memref<16x64xf32>, %[[B:.*]]: memref<64x32xf32>, %[[C:.*]]: memref<16x32xf32>)
// CHECK: "tprog.block"
// CHECK: memref.store %{{.*}}, %[[C]]
// CHECK: {dom = array<i64: 16, 32>, iter_types = ["spatial", "spatial"], name = "matmul_init"}
// CHECK: %[[C32:.*]] = arith.constant 32 : index
// CHECK: scf.for %[[JO:.*]] = %{{.*}} to %[[C32]] step %[[C32]]
// CHECK: %[[TB:.*]] = memref.subview %[[B]][0, %[[JO]]] [64, 32] [1, 1]
// CHECK: %[[C8:.*]] = arith.constant 8 : index
// CHECK: %[[C16:.*]] = arith.constant 16 : index
// CHECK: scf.for %[[IO:.*]] = %{{.*}} to %[[C16]] step %[[C8]]
// CHECK: %[[TA:.*]] = memref.subview %[[A]][%[[IO]], 0] [8, 64] [1, 1] : memref<16x64xf32> to memref<8x64xf32, strided<[64, 1], offset: ?>>
// CHECK: %[[TC:.*]] = memref.subview %[[C]][%[[IO]], %[[JO]]] [8, 32] [1, 1]
// CHECK: "hwprim.fma_microkernel"(%[[TA]], %[[TB]], %[[TC]]) {vector_width = 16 : i64}
// CHECK-NOT: "tprog.block"
// CHECK-NOT: tprog.kind
// CHECK: return

// With 8 lanes, a row of the tile is two vectors (16 columns); the 16 rows then reuse each of
// the two rhs panels, which are packed into a contiguous buffer first.
// AVX2-LABEL: func.func private @matmul
// AVX2: memref.alloc() : memref<64x16xf32>
// AVX2: name = "matmul_pack_rhs"
// AVX2: memref.subview %{{.*}} [8, 16] [1, 1]
// AVX2: "hwprim.fma_microkernel"(%{{.*}}, %{{.*}}, %{{.*}}) {vector_width = 8 : i64} : (memref<8x64xf32, strided<[64, 1], offset: ?>>, memref<64x16xf32>, memref<8x16xf32, strided<[32, 1], offset: ?>>) -> ()
func.func private @matmul(%arg0: memref<16x64xf32>, %arg1: memref<64x32xf32>, %arg2: memref<16x32xf32>) attributes {tprog.prim_func} {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c16 = arith.constant 16 : index
  %c32 = arith.constant 32 : index
  %c64 = arith.constant 64 : index
  scf.for %arg3 = %c0 to %c16 step %c1 {
    scf.for %arg4 = %c0 to %c32 step %c1 {
      scf.for %arg5 = %c0 to %c64 step %c1 {
        "tprog.block"(%arg3, %arg4, %arg5) ({
        ^bb0(%arg6: index, %arg7: index, %arg8: index):
          %cst = arith.constant 0.000000e+00 : f32
          memref.store %cst, %arg2[%arg6, %arg7] : memref<16x32xf32>
          omp.terminator
        }, {
        ^bb0(%arg6: index, %arg7: index, %arg8: index):
          %0 = memref.load %arg0[%arg6, %arg8] : memref<16x64xf32>
          %1 = memref.load %arg1[%arg8, %arg7] : memref<64x32xf32>
          %2 = memref.load %arg2[%arg6, %arg7] : memref<16x32xf32>
          %3 = arith.mulf %0, %1 : f32
          %4 = arith.addf %2, %3 : f32
          memref.store %4, %arg2[%arg6, %arg7] : memref<16x32xf32>
          omp.terminator
        }) {dom = array<i64: 16, 32, 64>, iter_types = ["spatial", "spatial", "reduction"], name = "matmul"} : (index, index, index) -> ()
      } {tprog.loop = "k"}
    } {tprog.loop = "j"}
  } {tprog.loop = "i"}
  return
}

// -----

// A block that is not a matmul is left as it is.
// CHECK-LABEL: func.func private @add
// CHECK-NOT: hwprim
// CHECK: "tprog.block"
// CHECK: arith.addf
// CHECK: name = "add"
// AVX2-LABEL: func.func private @add
// AVX2-NOT: hwprim
func.func private @add(%arg0: memref<16x32xf32>, %arg1: memref<32xf32>, %arg2: memref<16x32xf32>) attributes {tprog.prim_func} {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c16 = arith.constant 16 : index
  %c32 = arith.constant 32 : index
  scf.for %arg3 = %c0 to %c16 step %c1 {
    scf.for %arg4 = %c0 to %c32 step %c1 {
      "tprog.block"(%arg3, %arg4) ({
      ^bb0(%arg5: index, %arg6: index):
        omp.terminator
      }, {
      ^bb0(%arg5: index, %arg6: index):
        %0 = memref.load %arg0[%arg5, %arg6] : memref<16x32xf32>
        %1 = memref.load %arg1[%arg6] : memref<32xf32>
        %2 = arith.addf %0, %1 : f32
        memref.store %2, %arg2[%arg5, %arg6] : memref<16x32xf32>
        omp.terminator
      }) {dom = array<i64: 16, 32>, iter_types = ["spatial", "spatial"], name = "add"} : (index, index) -> ()
    } {tprog.loop = "i1"}
  } {tprog.loop = "i0"}
  return
}

// -----

// A large matmul runs its column panels on parallel threads.
// CHECK-LABEL: func.func private @big
// AVX2-LABEL: func.func private @big
// CHECK: "hwprim.fma_microkernel"
// CHECK: } {tprog.loop = "i_1"}
// CHECK: } {tprog.kind = "parallel", tprog.loop = "j_1"}
func.func private @big(%arg0: memref<128x128xf32>, %arg1: memref<128x128xf32>, %arg2: memref<128x128xf32>) attributes {tprog.prim_func} {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c128 = arith.constant 128 : index
  scf.for %arg3 = %c0 to %c128 step %c1 {
    scf.for %arg4 = %c0 to %c128 step %c1 {
      scf.for %arg5 = %c0 to %c128 step %c1 {
        "tprog.block"(%arg3, %arg4, %arg5) ({
        ^bb0(%arg6: index, %arg7: index, %arg8: index):
          %cst = arith.constant 0.000000e+00 : f32
          memref.store %cst, %arg2[%arg6, %arg7] : memref<128x128xf32>
          omp.terminator
        }, {
        ^bb0(%arg6: index, %arg7: index, %arg8: index):
          %0 = memref.load %arg0[%arg6, %arg8] : memref<128x128xf32>
          %1 = memref.load %arg1[%arg8, %arg7] : memref<128x128xf32>
          %2 = memref.load %arg2[%arg6, %arg7] : memref<128x128xf32>
          %3 = arith.mulf %0, %1 : f32
          %4 = arith.addf %2, %3 : f32
          memref.store %4, %arg2[%arg6, %arg7] : memref<128x128xf32>
          omp.terminator
        }) {dom = array<i64: 128, 128, 128>, iter_types = ["spatial", "spatial", "reduction"], name = "matmul"} : (index, index, index) -> ()
      } {tprog.loop = "k"}
    } {tprog.loop = "j"}
  } {tprog.loop = "i"}
  return
}

// -----

// Sizes that are not multiples of the tile get a remainder tile per dimension: 10 rows are
// 8 + 2, 20 columns (8 lanes: tiles of 16) are 16 + 4.
// AVX2-LABEL: func.func private @odd
// AVX2: scf.for %[[J:.*]] = %{{.*}} to %{{.*}} step %{{.*}} {
// AVX2: "hwprim.fma_microkernel"{{.*}} : (memref<8x8xf32, {{.*}}>, memref<8x16xf32, {{.*}}>, memref<8x16xf32, {{.*}}>) -> ()
// AVX2: "hwprim.fma_microkernel"{{.*}} : (memref<2x8xf32, {{.*}}>, memref<8x16xf32, {{.*}}>, memref<2x16xf32, {{.*}}>) -> ()
// AVX2: "hwprim.fma_microkernel"{{.*}} : (memref<8x8xf32, {{.*}}>, memref<8x4xf32, {{.*}}>, memref<8x4xf32, {{.*}}>) -> ()
// AVX2: "hwprim.fma_microkernel"{{.*}} : (memref<2x8xf32, {{.*}}>, memref<8x4xf32, {{.*}}>, memref<2x4xf32, {{.*}}>) -> ()
func.func private @odd(%arg0: memref<10x8xf32>, %arg1: memref<8x20xf32>, %arg2: memref<10x20xf32>) attributes {tprog.prim_func} {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c8 = arith.constant 8 : index
  %c10 = arith.constant 10 : index
  %c20 = arith.constant 20 : index
  scf.for %arg3 = %c0 to %c10 step %c1 {
    scf.for %arg4 = %c0 to %c20 step %c1 {
      scf.for %arg5 = %c0 to %c8 step %c1 {
        "tprog.block"(%arg3, %arg4, %arg5) ({
        ^bb0(%arg6: index, %arg7: index, %arg8: index):
          %cst = arith.constant 0.000000e+00 : f32
          memref.store %cst, %arg2[%arg6, %arg7] : memref<10x20xf32>
          omp.terminator
        }, {
        ^bb0(%arg6: index, %arg7: index, %arg8: index):
          %0 = memref.load %arg0[%arg6, %arg8] : memref<10x8xf32>
          %1 = memref.load %arg1[%arg8, %arg7] : memref<8x20xf32>
          %2 = memref.load %arg2[%arg6, %arg7] : memref<10x20xf32>
          %3 = arith.mulf %0, %1 : f32
          %4 = arith.addf %2, %3 : f32
          memref.store %4, %arg2[%arg6, %arg7] : memref<10x20xf32>
          omp.terminator
        }) {dom = array<i64: 10, 20, 8>, iter_types = ["spatial", "spatial", "reduction"], name = "matmul"} : (index, index, index) -> ()
      } {tprog.loop = "k"}
    } {tprog.loop = "j"}
  } {tprog.loop = "i"}
  return
}
