// The `libcall` dialect: calls into native libraries (MLC chapter 3).
//
// Each op is one computation in destination-passing style on memrefs; `callee`
// names the library function that implements it in Strata's library registry
// (python/strata/libraries/), which knows the shared library, the symbol, the
// argument convention and the shapes it accepts. The op itself fixes the
// semantics, so a call can be checked against numpy without the library.
irdl.dialect @libcall {
  // out = lhs @ rhs (2-D, row-major operands; strided rows allowed).
  irdl.operation @matmul {
    %lhs = irdl.base "!builtin.memref"
    %rhs = irdl.base "!builtin.memref"
    %out = irdl.base "!builtin.memref"
    irdl.operands(lhs: %lhs, rhs: %rhs, out: %out)
    %callee = irdl.base "#builtin.string"
    irdl.attributes {"callee" = %callee}
  }

  // out = conv2d(input, weight): NCHW input, OIHW weight (O x C/groups x KH x KW), PyTorch's
  // semantics without bias, with graph.conv2d's attributes (padding is top, left, bottom,
  // right; dilation 1 is dense).
  irdl.operation @conv2d {
    %input = irdl.base "!builtin.memref"
    %weight = irdl.base "!builtin.memref"
    %out = irdl.base "!builtin.memref"
    irdl.operands(input: %input, weight: %weight, out: %out)
    %callee = irdl.base "#builtin.string"
    %strides = irdl.base "#builtin.dense_array"
    %padding = irdl.base "#builtin.dense_array"
    %dilation = irdl.base "#builtin.dense_array"
    %groups = irdl.base "#builtin.integer"
    irdl.attributes {"callee" = %callee, "strides" = %strides, "padding" = %padding, "dilation" = %dilation, "groups" = %groups}
  }
}
