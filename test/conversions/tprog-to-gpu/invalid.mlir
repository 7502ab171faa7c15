// RUN: strata-opt %s --split-input-file --convert-tprog-to-gpu --verify-diagnostics

func.func private @unbound(%arg0: memref<4xf32>) attributes {tprog.prim_func} {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %zero = arith.constant 0.0 : f32
  // expected-error@+1 {{loop nest 'i' of tensor program 'unbound' has no GPU binding: on the cuda target every loop nest must start with loops bound to blockIdx}}
  scf.for %i = %c0 to %c4 step %c1 {
    memref.store %zero, %arg0[%i] : memref<4xf32>
  } {tprog.loop = "i"}
  return
}

// -----

func.func private @threads_outside(%arg0: memref<4xf32>) attributes {tprog.prim_func} {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %zero = arith.constant 0.0 : f32
  // expected-error@+1 {{loop nest 'i' of tensor program 'threads_outside' is bound to threadIdx.x}}
  scf.for %i = %c0 to %c4 step %c1 {
    memref.store %zero, %arg0[%i] : memref<4xf32>
  } {tprog.loop = "i", tprog.kind = "threadIdx.x"}
  return
}

// -----

func.func private @deep_block(%arg0: memref<4x4xf32>) attributes {tprog.prim_func} {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %zero = arith.constant 0.0 : f32
  scf.for %i = %c0 to %c4 step %c1 {
    scf.for %t = %c0 to %c4 step %c1 {
      // expected-error@+1 {{loop 'j' in tensor program 'deep_block' is bound to blockIdx.y but is not among the blockIdx loops perfectly nested at the top of its kernel}}
      scf.for %j = %c0 to %c4 step %c1 {
        memref.store %zero, %arg0[%i, %j] : memref<4x4xf32>
      } {tprog.loop = "j", tprog.kind = "blockIdx.y"}
    } {tprog.loop = "t", tprog.kind = "threadIdx.x"}
  } {tprog.loop = "i", tprog.kind = "blockIdx.x"}
  return
}

// -----

func.func private @too_many_threads(%arg0: memref<4x64x32xf32>) attributes {tprog.prim_func} {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %c32 = arith.constant 32 : index
  %c64 = arith.constant 64 : index
  %zero = arith.constant 0.0 : f32
  // expected-error@+1 {{the kernel of loop 'i' in tensor program 'too_many_threads' has 2048 threads per block (32x64x1), over the limit of 1024}}
  scf.for %i = %c0 to %c4 step %c1 {
    scf.for %y = %c0 to %c64 step %c1 {
      scf.for %x = %c0 to %c32 step %c1 {
        memref.store %zero, %arg0[%i, %y, %x] : memref<4x64x32xf32>
      } {tprog.loop = "x", tprog.kind = "threadIdx.x"}
    } {tprog.loop = "y", tprog.kind = "threadIdx.y"}
  } {tprog.loop = "i", tprog.kind = "blockIdx.x"}
  return
}

// -----

func.func private @blockdim_z(%arg0: memref<4x128xf32>) attributes {tprog.prim_func} {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %c128 = arith.constant 128 : index
  %zero = arith.constant 0.0 : f32
  // expected-error@+1 {{the kernel of loop 'i' in tensor program 'blockdim_z' has blockDim.z = 128, over the limit of 64}}
  scf.for %i = %c0 to %c4 step %c1 {
    scf.for %z = %c0 to %c128 step %c1 {
      memref.store %zero, %arg0[%i, %z] : memref<4x128xf32>
    } {tprog.loop = "z", tprog.kind = "threadIdx.z"}
  } {tprog.loop = "i", tprog.kind = "blockIdx.x"}
  return
}

// -----

func.func private @shared_outside(%arg0: memref<4xf32>) attributes {tprog.prim_func} {
  // expected-error@+1 {{shared-memory buffer in tensor program 'shared_outside' outside any kernel}}
  %sh = memref.alloc() : memref<8xf32, #gpu.address_space<workgroup>>
  return
}
