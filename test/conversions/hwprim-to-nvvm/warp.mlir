// RUN: strata-opt %s --split-input-file --convert-hwprim-to-nvvm=chip=sm_80 | FileCheck %s

// ldmatrix.x4: each lane supplies the address of one 8-element row of the 16x16 tile (lanes
// 8q..8q+7: the rows of matrix q, matrices down the columns of 8x8 blocks), computed from the
// subview's metadata; the four i32 registers become the vector<8xf16> fragment.
// CHECK-LABEL: func.func @ldmatrix_x4
// CHECK: %[[LANE:.*]] = gpu.lane_id
// CHECK: %[[BASE:.*]], %[[OFFSET:.*]], %{{.*}}:2, %{{.*}}:2 = memref.extract_strided_metadata
// CHECK: %[[PTR:.*]] = memref.extract_aligned_pointer_as_index %[[BASE]]
// CHECK: %[[C40:.*]] = arith.constant 40 : index
// CHECK: arith.muli %{{.*}}, %[[C40]] : index
// CHECK: arith.addi %[[OFFSET]], %{{.*}} : index
// CHECK: %[[ADDR:.*]] = arith.addi %[[PTR]], %{{.*}} : index
// CHECK: %[[I64:.*]] = arith.index_cast %[[ADDR]] : index to i64
// CHECK: %[[P:.*]] = llvm.inttoptr %[[I64]] : i64 to !llvm.ptr<3>
// CHECK: %[[R:.*]] = nvvm.ldmatrix %[[P]] {eltType = #nvvm.ld_st_matrix_elt_type<b16>, layout = #nvvm.mma_layout<row>, num = 4 : i32, shape = #nvvm.ld_st_matrix_shape<m = 8, n = 8>} : (!llvm.ptr<3>) -> !llvm.struct<(i32, i32, i32, i32)>
// CHECK-COUNT-4: llvm.bitcast %{{.*}} : i32 to vector<2xf16>
// CHECK: %[[V:.*]] = vector.shuffle %{{.*}}, %{{.*}} [0, 1, 2, 3, 4, 5, 6, 7] : vector<4xf16>, vector<4xf16>
// CHECK: return %[[V]] : vector<8xf16>
// CHECK-NOT: hwprim
func.func @ldmatrix_x4(%t: memref<16x16xf16, strided<[40, 1], offset: ?>, #gpu.address_space<workgroup>>) -> vector<8xf16> {
  %x = "hwprim.ldmatrix"(%t) {trans = false} : (memref<16x16xf16, strided<[40, 1], offset: ?>, #gpu.address_space<workgroup>>) -> vector<8xf16>
  return %x : vector<8xf16>
}

// -----

// ldmatrix.x2.trans of a 16x8 bf16 tile (an mma B fragment): layout col is PTX's .trans.
// CHECK-LABEL: func.func @ldmatrix_x2_trans
// CHECK: nvvm.ldmatrix %{{.*}} {eltType = #nvvm.ld_st_matrix_elt_type<b16>, layout = #nvvm.mma_layout<col>, num = 2 : i32, shape = #nvvm.ld_st_matrix_shape<m = 8, n = 8>} : (!llvm.ptr<3>) -> !llvm.struct<(i32, i32)>
// CHECK-COUNT-2: llvm.bitcast %{{.*}} : i32 to vector<2xbf16>
// CHECK: vector.shuffle %{{.*}}, %{{.*}} [0, 1, 2, 3] : vector<2xbf16>, vector<2xbf16>
func.func @ldmatrix_x2_trans(%t: memref<16x8xbf16, #gpu.address_space<workgroup>>) -> vector<4xbf16> {
  %x = "hwprim.ldmatrix"(%t) {trans = true} : (memref<16x8xbf16, #gpu.address_space<workgroup>>) -> vector<4xbf16>
  return %x : vector<4xbf16>
}

// -----

// mma.sync m16n8k16 on f16: A as four f16x2 registers, B as two, C as four f32 (the PTX types
// are set, which the printer leaves out when the operand types imply them).
// CHECK-LABEL: func.func @mma_f16
// CHECK-SAME: (%[[A:.*]]: vector<8xf16>, %[[B:.*]]: vector<4xf16>, %[[C:.*]]: vector<4xf32>)
// CHECK-DAG: %[[C0:.*]] = vector.extract %[[C]][0] : f32 from vector<4xf32>
// CHECK-DAG: %[[C3:.*]] = vector.extract %[[C]][3] : f32 from vector<4xf32>
// CHECK-DAG: %[[A0:.*]] = vector.shuffle %[[A]], %[[A]] [0, 1] : vector<8xf16>, vector<8xf16>
// CHECK-DAG: %[[A3:.*]] = vector.shuffle %[[A]], %[[A]] [6, 7] : vector<8xf16>, vector<8xf16>
// CHECK-DAG: %[[B1:.*]] = vector.shuffle %[[B]], %[[B]] [2, 3] : vector<4xf16>, vector<4xf16>
// CHECK: %[[D:.*]] = nvvm.mma.sync A[%[[A0]], %{{.*}}, %{{.*}}, %[[A3]]]  B[%{{.*}}, %[[B1]]]  C[%[[C0]], %{{.*}}, %{{.*}}, %[[C3]]]  {layoutA = #nvvm.mma_layout<row>, layoutB = #nvvm.mma_layout<col>, shape = #nvvm.shape<m = 16, n = 8, k = 16>} : (vector<2xf16>, vector<2xf16>, f32) -> !llvm.struct<(f32, f32, f32, f32)>
// CHECK-COUNT-4: llvm.extractvalue %[[D]]
// CHECK: vector.from_elements %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} : vector<4xf32>
func.func @mma_f16(%a: vector<8xf16>, %b: vector<4xf16>, %c: vector<4xf32>) -> vector<4xf32> {
  %d = "hwprim.mma_sync"(%a, %b, %c) : (vector<8xf16>, vector<4xf16>, vector<4xf32>) -> vector<4xf32>
  return %d : vector<4xf32>
}

// -----

// On bf16 the pairs travel as i32 registers.
// CHECK-LABEL: func.func @mma_bf16
// CHECK-COUNT-6: llvm.bitcast %{{.*}} : vector<2xbf16> to i32
// CHECK: nvvm.mma.sync {{.*}} multiplicandAPtxType = #nvvm.mma_type<bf16>, multiplicandBPtxType = #nvvm.mma_type<bf16>{{.*}} : (i32, i32, f32) -> !llvm.struct<(f32, f32, f32, f32)>
func.func @mma_bf16(%a: vector<8xbf16>, %b: vector<4xbf16>, %c: vector<4xf32>) -> vector<4xf32> {
  %d = "hwprim.mma_sync"(%a, %b, %c) : (vector<8xbf16>, vector<4xbf16>, vector<4xf32>) -> vector<4xf32>
  return %d : vector<4xf32>
}

// -----

// A fragment store: element i of lane l goes to row l/4 + 8*(i/2), column 2*(l%4) + i%2 of the
// tile, guarded by the destination's bounds, rounded to f16; batch indices pass through.
// CHECK-LABEL: func.func @frag_store
// CHECK-SAME: (%[[D:.*]]: vector<4xf32>, %[[C:.*]]: memref<2x20x12xf16>, %[[B:.*]]: index, %[[I:.*]]: index, %[[J:.*]]: index)
// CHECK: %[[LANE:.*]] = gpu.lane_id
// CHECK-DAG: %[[C20:.*]] = arith.constant 20 : index
// CHECK-DAG: %[[C12:.*]] = arith.constant 12 : index
// CHECK: %[[G:.*]] = arith.divui %[[LANE]], %{{.*}} : index
// CHECK: %[[T:.*]] = arith.remui %[[LANE]], %{{.*}} : index
// CHECK: %[[T2:.*]] = arith.muli %[[T]], %{{.*}} : index
// CHECK: %[[ROW:.*]] = arith.addi %[[I]], %[[G]] : index
// CHECK: %[[COL:.*]] = arith.addi %[[J]], %[[T2]] : index
// CHECK: %[[IN_R:.*]] = arith.cmpi ult, %[[ROW]], %[[C20]] : index
// CHECK: %[[IN_C:.*]] = arith.cmpi ult, %[[COL]], %[[C12]] : index
// CHECK: %[[IN:.*]] = arith.andi %[[IN_R]], %[[IN_C]] : i1
// CHECK: scf.if %[[IN]] {
// CHECK:   %[[X:.*]] = vector.extract %[[D]][0] : f32 from vector<4xf32>
// CHECK:   %[[H:.*]] = arith.truncf %[[X]] : f32 to f16
// CHECK:   memref.store %[[H]], %[[C]][%[[B]], %[[ROW]], %[[COL]]] : memref<2x20x12xf16>
// CHECK: }
// CHECK-COUNT-3: scf.if
// CHECK-NOT: hwprim
func.func @frag_store(%d: vector<4xf32>, %c: memref<2x20x12xf16>, %b: index, %i: index, %j: index) {
  "hwprim.frag_store"(%d, %c, %b, %i, %j) : (vector<4xf32>, memref<2x20x12xf16>, index, index, index) -> ()
  return
}
