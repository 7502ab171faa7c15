// RUN: strata-opt %s --func-emit-c-interface | FileCheck %s

// A public function with a body gets llvm.emit_c_interface.
// CHECK-LABEL: func.func @public_body
// CHECK-SAME: attributes {llvm.emit_c_interface}
func.func @public_body(%x: memref<4xf32>) {
  return
}

// A private function is left alone.
// CHECK-LABEL: func.func private @private_body
// CHECK-NOT: llvm.emit_c_interface
// CHECK-SAME: {
func.func private @private_body(%x: memref<4xf32>) {
  return
}

// A declaration is left alone: a wrapper would redirect calls into external libraries.
// CHECK-LABEL: func.func private @declaration
// CHECK-NOT: llvm.emit_c_interface
// CHECK-LABEL: func.func @other
// CHECK-SAME: attributes {llvm.emit_c_interface}
func.func private @declaration(memref<4xf32>)
func.func @other() {
  return
}
