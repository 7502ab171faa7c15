// RUN: strata-opt %s --split-input-file --convert-hwprim-to-nvvm=chip=sm_90a | FileCheck %s

// ldmatrix.x4 of a 16x8 f32 tile (the tf32 A fragment): the same b16 instruction, each matrix
// 8 rows of 4 f32: lanes 8q..8q+7 address the rows of matrix q, whose block is (q mod 2, q div 2),
// so the column offset is 4 * (q div 2); the four i32 registers are the f32 bits.
// CHECK-LABEL: func.func @ldmatrix_f32
// CHECK: %[[LANE:.*]] = gpu.lane_id
// CHECK: %[[Q:.*]] = arith.remui %{{.*}}, %{{.*}} : index
// CHECK: %[[QC:.*]] = arith.divui %{{.*}}, %{{.*}} : index
// CHECK: %[[C4:.*]] = arith.constant 4 : index
// CHECK: %[[COL:.*]] = arith.muli %[[QC]], %[[C4]] : index
// CHECK: %[[C20:.*]] = arith.constant 20 : index
// CHECK: %[[R:.*]] = nvvm.ldmatrix %{{.*}} {eltType = #nvvm.ld_st_matrix_elt_type<b16>, layout = #nvvm.mma_layout<row>, num = 4 : i32, shape = #nvvm.ld_st_matrix_shape<m = 8, n = 8>} : (!llvm.ptr<3>) -> !llvm.struct<(i32, i32, i32, i32)>
// CHECK-COUNT-4: llvm.bitcast %{{.*}} : i32 to f32
// CHECK: %[[V:.*]] = vector.from_elements %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} : vector<4xf32>
// CHECK: return %[[V]] : vector<4xf32>
func.func @ldmatrix_f32(%t: memref<16x8xf32, strided<[20, 1], offset: ?>, #gpu.address_space<workgroup>>) -> vector<4xf32> {
  %x = "hwprim.ldmatrix"(%t) {trans = false} : (memref<16x8xf32, strided<[20, 1], offset: ?>, #gpu.address_space<workgroup>>) -> vector<4xf32>
  return %x : vector<4xf32>
}

// -----

// frag_load of the tf32 B fragment: lane l loads B[l%4, l/4] and B[l%4 + 4, l/4] (a column of
// 32-bit elements: no ldmatrix form), plain loads from the strided tile.
// CHECK-LABEL: func.func @frag_load_b
// CHECK-SAME: (%[[T:.*]]: memref<8x8xf32, strided<[136, 1], offset: ?>, #gpu.address_space<workgroup>>)
// CHECK: %[[LANE:.*]] = gpu.lane_id
// CHECK: %[[G:.*]] = arith.divui %[[LANE]], %{{.*}} : index
// CHECK: %[[T4:.*]] = arith.remui %[[LANE]], %{{.*}} : index
// CHECK: %[[B0:.*]] = memref.load %[[T]][%[[T4]], %[[G]]]
// CHECK: %[[K1:.*]] = arith.addi %{{.*}}, %{{.*}} : index
// CHECK: %[[B1:.*]] = memref.load %[[T]][%[[K1]], %{{.*}}]
// CHECK: vector.from_elements %[[B0]], %[[B1]] : vector<2xf32>
func.func @frag_load_b(%t: memref<8x8xf32, strided<[136, 1], offset: ?>, #gpu.address_space<workgroup>>) -> vector<2xf32> {
  %x = "hwprim.frag_load"(%t) {operand = "b"} : (memref<8x8xf32, strided<[136, 1], offset: ?>, #gpu.address_space<workgroup>>) -> vector<2xf32>
  return %x : vector<2xf32>
}

// -----

// frag_load of an f16 A fragment (m16n8k16 layout): 8 loads per lane.
// CHECK-LABEL: func.func @frag_load_a_f16
// CHECK-COUNT-8: memref.load
// CHECK: vector.from_elements {{.*}} : vector<8xf16>
func.func @frag_load_a_f16(%t: memref<16x16xf16>) -> vector<8xf16> {
  %x = "hwprim.frag_load"(%t) {operand = "a"} : (memref<16x16xf16>) -> vector<8xf16>
  return %x : vector<8xf16>
}

// -----

// round_tf32: cvt.rna.tf32.f32 per element; its i32 result is the f32 bits.
// CHECK-LABEL: func.func @round
// CHECK-SAME: (%[[V:.*]]: vector<2xf32>, %[[S:.*]]: f32)
// CHECK: %[[E0:.*]] = vector.extract %[[V]][0] : f32 from vector<2xf32>
// CHECK: %[[R0:.*]] = nvvm.convert.float.to.tf32 %[[E0]] {rnd = #nvvm.fp_rnd_mode<rna>}
// CHECK: %[[F0:.*]] = llvm.bitcast %[[R0]] : i32 to f32
// CHECK: %[[R1:.*]] = nvvm.convert.float.to.tf32 %{{.*}} {rnd = #nvvm.fp_rnd_mode<rna>}
// CHECK: %[[F1:.*]] = llvm.bitcast %[[R1]] : i32 to f32
// CHECK: %[[RV:.*]] = vector.from_elements %[[F0]], %[[F1]] : vector<2xf32>
// CHECK: %[[RS:.*]] = nvvm.convert.float.to.tf32 %[[S]] {rnd = #nvvm.fp_rnd_mode<rna>}
// CHECK: %[[FS:.*]] = llvm.bitcast %[[RS]] : i32 to f32
// CHECK: return %[[RV]], %[[FS]]
func.func @round(%v: vector<2xf32>, %s: f32) -> (vector<2xf32>, f32) {
  %r = "hwprim.round_tf32"(%v) : (vector<2xf32>) -> vector<2xf32>
  %q = "hwprim.round_tf32"(%s) : (f32) -> f32
  return %r, %q : vector<2xf32>, f32
}

// -----

// mma.sync m16n8k8 .tf32: A as four b32 registers, B as two (the bits of the f32 fragments),
// C as four f32.
// CHECK-LABEL: func.func @mma_tf32
// CHECK-SAME: (%[[A:.*]]: vector<4xf32>, %[[B:.*]]: vector<2xf32>, %[[C:.*]]: vector<4xf32>)
// CHECK-DAG: %[[C0:.*]] = vector.extract %[[C]][0] : f32 from vector<4xf32>
// CHECK-DAG: %[[A0:.*]] = vector.extract %[[A]][0] : f32 from vector<4xf32>
// CHECK-DAG: %[[IA0:.*]] = llvm.bitcast %[[A0]] : f32 to i32
// CHECK-DAG: %[[B1:.*]] = vector.extract %[[B]][1] : f32 from vector<2xf32>
// CHECK-DAG: %[[IB1:.*]] = llvm.bitcast %[[B1]] : f32 to i32
// CHECK: %[[D:.*]] = nvvm.mma.sync A[%[[IA0]], %{{.*}}, %{{.*}}, %{{.*}}]  B[%{{.*}}, %[[IB1]]]  C[%[[C0]], %{{.*}}, %{{.*}}, %{{.*}}]  {layoutA = #nvvm.mma_layout<row>, layoutB = #nvvm.mma_layout<col>, multiplicandAPtxType = #nvvm.mma_type<tf32>, multiplicandBPtxType = #nvvm.mma_type<tf32>, shape = #nvvm.shape<m = 16, n = 8, k = 8>} : (i32, i32, f32) -> !llvm.struct<(f32, f32, f32, f32)>
// CHECK-COUNT-4: llvm.extractvalue %[[D]]
// CHECK: vector.from_elements %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} : vector<4xf32>
func.func @mma_tf32(%a: vector<4xf32>, %b: vector<2xf32>, %c: vector<4xf32>) -> vector<4xf32> {
  %d = "hwprim.mma_sync"(%a, %b, %c) : (vector<4xf32>, vector<2xf32>, vector<4xf32>) -> vector<4xf32>
  return %d : vector<4xf32>
}

// -----

// cp.async of 16 bytes of f32: 4 elements, so the copy is inside when column + 4 <= 12.
// CHECK-LABEL: func.func @cp_async_f32
// CHECK-SAME: (%{{.*}}: memref<4xf32, #gpu.address_space<workgroup>>, %{{.*}}: memref<16x12xf32>, %[[I:.*]]: index, %[[J:.*]]: index)
// CHECK: %[[C4:.*]] = arith.constant 4 : index
// CHECK: %[[END:.*]] = arith.addi %[[J]], %[[C4]] : index
// CHECK: %[[C12:.*]] = arith.constant 12 : index
// CHECK: arith.cmpi ule, %[[END]], %[[C12]] : index
// CHECK: nvvm.cp.async.shared.global %{{.*}}, %{{.*}}, 16, cache =  cg, %{{.*}} : !llvm.ptr<3>, !llvm.ptr<1>, i32
func.func @cp_async_f32(%dst: memref<4xf32, #gpu.address_space<workgroup>>, %g: memref<16x12xf32>, %i: index, %j: index) {
  "hwprim.cp_async"(%dst, %g, %i, %j) : (memref<4xf32, #gpu.address_space<workgroup>>, memref<16x12xf32>, index, index) -> ()
  return
}

// -----

// wgmma m64n16k8 .tf32: A and B both K-major (layout B col: no transposed B for tf32); the
// descriptors' leading byte offset is the 128 bytes between k groups, the stride byte offset
// the 256 bytes between row (column) groups.
// CHECK-LABEL: func.func @wgmma_tf32
// CHECK: %[[LBO:.*]] = arith.constant 128 : index
// CHECK: %[[SBO:.*]] = arith.constant 256 : index
// CHECK: nvvm.wgmma.mma_async %{{.*}}, %{{.*}}, %{{.*}}, <m = 64, n = 16, k = 8>, D[<f32>, <one>], A[<tf32>, <one>, <row>], B[<tf32>, <one>, <col>] : !llvm.struct<(f32, f32, f32, f32, f32, f32, f32, f32)> -> !llvm.struct<(f32, f32, f32, f32, f32, f32, f32, f32)>
// CHECK: vector.from_elements {{.*}} : vector<8xf32>
func.func @wgmma_tf32(%acc: vector<8xf32>, %a: memref<8x2x8x4xf32, #gpu.address_space<workgroup>>, %b: memref<2x2x8x4xf32, #gpu.address_space<workgroup>>) -> vector<8xf32> {
  %d = "hwprim.wgmma"(%acc, %a, %b) : (vector<8xf32>, memref<8x2x8x4xf32, #gpu.address_space<workgroup>>, memref<2x2x8x4xf32, #gpu.address_space<workgroup>>) -> vector<8xf32>
  return %d : vector<8xf32>
}
