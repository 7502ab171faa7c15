// The `graph` dialect: the computational-graph level of Strata (MLC chapter 1).
//
// Ops take and produce builtin tensors with value semantics. IRDL cannot express
// "tensor of f32" or shape relations, so element types and shapes are checked by
// the `graph-verify` pass (python/strata/transforms/graph/verify.py). Each operand
// gets its own `irdl.base` so that operands are not forced to the same type.
//
// A fused subgraph (MLC's "fused_linear_relu") is a private `func.func` carrying
// the `graph.fused` unit attribute, called with upstream `func.call`: IRDL binds
// one constraint to every member of a variadic group, so a call op with operands
// of different types cannot be defined in IRDL.
irdl.dialect @graph {
  // A weight or other compile-time tensor. `value` is an elements attribute
  // (`dense<...>` or, for large weights, `dense_resource<...>`) whose type equals
  // the result type.
  irdl.operation @constant {
    %value = irdl.any
    irdl.attributes {"value" = %value}
    %out = irdl.base "!builtin.tensor"
    irdl.results(output: %out)
  }

  // numpy.matmul: 1-D operands are promoted, leading (batch) dims broadcast.
  irdl.operation @matmul {
    %lhs = irdl.base "!builtin.tensor"
    %rhs = irdl.base "!builtin.tensor"
    irdl.operands(lhs: %lhs, rhs: %rhs)
    %out = irdl.base "!builtin.tensor"
    irdl.results(output: %out)
  }

  // Elementwise addition with numpy broadcasting.
  irdl.operation @add {
    %lhs = irdl.base "!builtin.tensor"
    %rhs = irdl.base "!builtin.tensor"
    irdl.operands(lhs: %lhs, rhs: %rhs)
    %out = irdl.base "!builtin.tensor"
    irdl.results(output: %out)
  }

  // max(x, 0), elementwise.
  irdl.operation @relu {
    %in = irdl.base "!builtin.tensor"
    irdl.operands(input: %in)
    %out = irdl.base "!builtin.tensor"
    irdl.results(output: %out)
  }

  // Elementwise lhs - rhs and lhs * rhs with numpy broadcasting.
  irdl.operation @sub {
    %lhs = irdl.base "!builtin.tensor"
    %rhs = irdl.base "!builtin.tensor"
    irdl.operands(lhs: %lhs, rhs: %rhs)
    %out = irdl.base "!builtin.tensor"
    irdl.results(output: %out)
  }
  irdl.operation @mul {
    %lhs = irdl.base "!builtin.tensor"
    %rhs = irdl.base "!builtin.tensor"
    irdl.operands(lhs: %lhs, rhs: %rhs)
    %out = irdl.base "!builtin.tensor"
    irdl.results(output: %out)
  }

  // 2-D convolution, PyTorch layout: input N x C x H x W, weight O x (C / groups) x KH x KW.
  //   strides  = array<i64: sh, sw>
  //   padding  = array<i64: top, left, bottom, right> (zeros)
  //   dilation = array<i64: dh, dw>
  //   groups   : i64, dividing C and O
  irdl.operation @conv2d {
    %in = irdl.base "!builtin.tensor"
    %w = irdl.base "!builtin.tensor"
    irdl.operands(input: %in, weight: %w)
    %strides = irdl.base "#builtin.dense_array"
    %padding = irdl.base "#builtin.dense_array"
    %dilation = irdl.base "#builtin.dense_array"
    %groups = irdl.base "#builtin.integer"
    irdl.attributes {"strides" = %strides, "padding" = %padding, "dilation" = %dilation, "groups" = %groups}
    %out = irdl.base "!builtin.tensor"
    irdl.results(output: %out)
  }

  // exp(x) / sum(exp(x)) along `axis` (negative counts from the end).
  irdl.operation @softmax {
    %in = irdl.base "!builtin.tensor"
    irdl.operands(input: %in)
    %axis = irdl.base "#builtin.integer"
    irdl.attributes {"axis" = %axis}
    %out = irdl.base "!builtin.tensor"
    irdl.results(output: %out)
  }

  // Layer normalization over the trailing dimensions that `weight` and `bias` have
  // (PyTorch's normalized_shape): (x - mean) / sqrt(var + epsilon) * weight + bias.
  irdl.operation @layer_norm {
    %in = irdl.base "!builtin.tensor"
    %w = irdl.base "!builtin.tensor"
    %b = irdl.base "!builtin.tensor"
    irdl.operands(input: %in, weight: %w, bias: %b)
    %eps = irdl.base "#builtin.float"
    irdl.attributes {"epsilon" = %eps}
    %out = irdl.base "!builtin.tensor"
    irdl.results(output: %out)
  }

  // The same elements in a new shape (row-major order); the result type gives the shape.
  irdl.operation @reshape {
    %in = irdl.base "!builtin.tensor"
    irdl.operands(input: %in)
    %out = irdl.base "!builtin.tensor"
    irdl.results(output: %out)
  }

  // numpy.transpose: result dimension i is input dimension permutation[i].
  irdl.operation @transpose {
    %in = irdl.base "!builtin.tensor"
    irdl.operands(input: %in)
    %perm = irdl.base "#builtin.dense_array"
    irdl.attributes {"permutation" = %perm}
    %out = irdl.base "!builtin.tensor"
    irdl.results(output: %out)
  }
}
