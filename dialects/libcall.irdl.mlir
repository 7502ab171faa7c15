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
}
