// RUN: strata-opt %s --split-input-file --convert-hwprim-to-nvvm=chip=sm_80 | FileCheck %s

// cp.async.cg of 16 bytes: in bounds when every index is below its dimension and the 8 elements
// end inside the last one; out of bounds, src-size 0 zero-fills the destination and the source
// address is clamped to element 0 (nothing is read there).
// CHECK-LABEL: func.func @copy
// CHECK-SAME: (%[[DST:.*]]: memref<8xf16, strided<[1], offset: ?>, #gpu.address_space<workgroup>>, %[[SRC:.*]]: memref<2x20x24xf16>, %[[B:.*]]: index, %[[I:.*]]: index, %[[J:.*]]: index)
// CHECK: %[[IN_B:.*]] = arith.cmpi ult, %[[B]], %{{.*}} : index
// CHECK: %[[IN_I:.*]] = arith.cmpi ult, %[[I]], %{{.*}} : index
// CHECK: %[[END:.*]] = arith.addi %[[J]], %{{.*}} : index
// CHECK: %[[C24:.*]] = arith.constant 24 : index
// CHECK: %[[IN_J:.*]] = arith.cmpi ule, %[[END]], %[[C24]] : index
// CHECK: %[[IN2:.*]] = arith.andi %[[IN_B]], %[[IN_I]] : i1
// CHECK: %[[IN:.*]] = arith.andi %[[IN2]], %[[IN_J]] : i1
// CHECK: %[[SB:.*]] = arith.select %[[IN]], %[[B]], %{{.*}} : index
// CHECK: %[[SI:.*]] = arith.select %[[IN]], %[[I]], %{{.*}} : index
// CHECK: %[[SJ:.*]] = arith.select %[[IN]], %[[J]], %{{.*}} : index
// CHECK: %[[C16:.*]] = arith.constant 16 : i32
// CHECK: %[[C0:.*]] = arith.constant 0 : i32
// CHECK: %[[SIZE:.*]] = arith.select %[[IN]], %[[C16]], %[[C0]] : i32
// CHECK: %[[D:.*]] = llvm.inttoptr %{{.*}} : i64 to !llvm.ptr<3>
// CHECK: memref.extract_strided_metadata %[[SRC]]
// CHECK: arith.muli %[[SB]], %{{.*}} : index
// CHECK: arith.muli %[[SI]], %{{.*}} : index
// CHECK: arith.addi %{{.*}}, %[[SJ]] : index
// CHECK: %[[S:.*]] = llvm.inttoptr %{{.*}} : i64 to !llvm.ptr<1>
// CHECK: nvvm.cp.async.shared.global %[[D]], %[[S]], 16, cache =  cg, %[[SIZE]] : !llvm.ptr<3>, !llvm.ptr<1>, i32
// CHECK-NEXT: nvvm.cp.async.commit.group
// CHECK-NEXT: nvvm.cp.async.wait.group 1
func.func @copy(%dst: memref<8xf16, strided<[1], offset: ?>, #gpu.address_space<workgroup>>, %src: memref<2x20x24xf16>, %b: index, %i: index, %j: index) {
  "hwprim.cp_async"(%dst, %src, %b, %i, %j) : (memref<8xf16, strided<[1], offset: ?>, #gpu.address_space<workgroup>>, memref<2x20x24xf16>, index, index, index) -> ()
  "hwprim.cp_async_commit"() : () -> ()
  "hwprim.cp_async_wait"() {pending = 1 : i64} : () -> ()
  return
}
