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

  // ---- Elementwise math (same shape and element type as the input). ----

  // x * Phi(x); approximate = "none" (erf) or "tanh" (PyTorch's tanh formula).
  irdl.operation @gelu {
    %in = irdl.base "!builtin.tensor"
    irdl.operands(input: %in)
    %approximate = irdl.base "#builtin.string"
    irdl.attributes {"approximate" = %approximate}
    %out = irdl.base "!builtin.tensor"
    irdl.results(output: %out)
  }
  // x * sigmoid(x)
  irdl.operation @silu {
    %in = irdl.base "!builtin.tensor"
    irdl.operands(input: %in)
    %out = irdl.base "!builtin.tensor"
    irdl.results(output: %out)
  }
  // 1 / (1 + exp(-x))
  irdl.operation @sigmoid {
    %in = irdl.base "!builtin.tensor"
    irdl.operands(input: %in)
    %out = irdl.base "!builtin.tensor"
    irdl.results(output: %out)
  }
  // tanh(x)
  irdl.operation @tanh {
    %in = irdl.base "!builtin.tensor"
    irdl.operands(input: %in)
    %out = irdl.base "!builtin.tensor"
    irdl.results(output: %out)
  }
  // exp(x)
  irdl.operation @exp {
    %in = irdl.base "!builtin.tensor"
    irdl.operands(input: %in)
    %out = irdl.base "!builtin.tensor"
    irdl.results(output: %out)
  }
  // natural logarithm
  irdl.operation @log {
    %in = irdl.base "!builtin.tensor"
    irdl.operands(input: %in)
    %out = irdl.base "!builtin.tensor"
    irdl.results(output: %out)
  }
  // the error function
  irdl.operation @erf {
    %in = irdl.base "!builtin.tensor"
    irdl.operands(input: %in)
    %out = irdl.base "!builtin.tensor"
    irdl.results(output: %out)
  }
  // sqrt(x)
  irdl.operation @sqrt {
    %in = irdl.base "!builtin.tensor"
    irdl.operands(input: %in)
    %out = irdl.base "!builtin.tensor"
    irdl.results(output: %out)
  }
  // 1 / sqrt(x)
  irdl.operation @rsqrt {
    %in = irdl.base "!builtin.tensor"
    irdl.operands(input: %in)
    %out = irdl.base "!builtin.tensor"
    irdl.results(output: %out)
  }
  // -x
  irdl.operation @neg {
    %in = irdl.base "!builtin.tensor"
    irdl.operands(input: %in)
    %out = irdl.base "!builtin.tensor"
    irdl.results(output: %out)
  }
  // |x|
  irdl.operation @abs {
    %in = irdl.base "!builtin.tensor"
    irdl.operands(input: %in)
    %out = irdl.base "!builtin.tensor"
    irdl.results(output: %out)
  }

  // ---- Elementwise binary ops with numpy broadcasting. ----

  // lhs / rhs
  irdl.operation @div {
    %lhs = irdl.base "!builtin.tensor"
    %rhs = irdl.base "!builtin.tensor"
    irdl.operands(lhs: %lhs, rhs: %rhs)
    %out = irdl.base "!builtin.tensor"
    irdl.results(output: %out)
  }
  // lhs ** rhs
  irdl.operation @pow {
    %lhs = irdl.base "!builtin.tensor"
    %rhs = irdl.base "!builtin.tensor"
    irdl.operands(lhs: %lhs, rhs: %rhs)
    %out = irdl.base "!builtin.tensor"
    irdl.results(output: %out)
  }
  // max(lhs, rhs) (NaN-propagating, as torch.maximum)
  irdl.operation @maximum {
    %lhs = irdl.base "!builtin.tensor"
    %rhs = irdl.base "!builtin.tensor"
    irdl.operands(lhs: %lhs, rhs: %rhs)
    %out = irdl.base "!builtin.tensor"
    irdl.results(output: %out)
  }
  // min(lhs, rhs) (NaN-propagating, as torch.minimum)
  irdl.operation @minimum {
    %lhs = irdl.base "!builtin.tensor"
    %rhs = irdl.base "!builtin.tensor"
    irdl.operands(lhs: %lhs, rhs: %rhs)
    %out = irdl.base "!builtin.tensor"
    irdl.results(output: %out)
  }

  // ---- Normalization and reductions. ----

  // x - max - log(sum(exp(x - max))) along `axis` (negative counts from the end).
  irdl.operation @log_softmax {
    %in = irdl.base "!builtin.tensor"
    irdl.operands(input: %in)
    %axis = irdl.base "#builtin.integer"
    irdl.attributes {"axis" = %axis}
    %out = irdl.base "!builtin.tensor"
    irdl.results(output: %out)
  }
  // Batch normalization in inference: (x - mean) / sqrt(var + epsilon) * weight + bias, with
  // per-channel (dimension 1) weight, bias, mean and var.
  irdl.operation @batch_norm {
    %in = irdl.base "!builtin.tensor"
    %w = irdl.base "!builtin.tensor"
    %b = irdl.base "!builtin.tensor"
    %m = irdl.base "!builtin.tensor"
    %v = irdl.base "!builtin.tensor"
    irdl.operands(input: %in, weight: %w, bias: %b, mean: %m, var: %v)
    %eps = irdl.base "#builtin.float"
    irdl.attributes {"epsilon" = %eps}
    %out = irdl.base "!builtin.tensor"
    irdl.results(output: %out)
  }
  // The sum over `axes` (array<i64>, negative counts from the end); `keepdim` (bool) keeps them as size 1.
  irdl.operation @reduce_sum {
    %in = irdl.base "!builtin.tensor"
    irdl.operands(input: %in)
    %axes = irdl.base "#builtin.dense_array"
    %keepdim = irdl.base "#builtin.integer"
    irdl.attributes {"axes" = %axes, "keepdim" = %keepdim}
    %out = irdl.base "!builtin.tensor"
    irdl.results(output: %out)
  }
  // The mean over `axes` (array<i64>, negative counts from the end); `keepdim` (bool) keeps them as size 1.
  irdl.operation @reduce_mean {
    %in = irdl.base "!builtin.tensor"
    irdl.operands(input: %in)
    %axes = irdl.base "#builtin.dense_array"
    %keepdim = irdl.base "#builtin.integer"
    irdl.attributes {"axes" = %axes, "keepdim" = %keepdim}
    %out = irdl.base "!builtin.tensor"
    irdl.results(output: %out)
  }
  // The maximum over `axes` (array<i64>, negative counts from the end); `keepdim` (bool) keeps them as size 1.
  irdl.operation @reduce_max {
    %in = irdl.base "!builtin.tensor"
    irdl.operands(input: %in)
    %axes = irdl.base "#builtin.dense_array"
    %keepdim = irdl.base "#builtin.integer"
    irdl.attributes {"axes" = %axes, "keepdim" = %keepdim}
    %out = irdl.base "!builtin.tensor"
    irdl.results(output: %out)
  }

  // ---- Pooling (NCHW). kernel/strides/dilation = array<i64: h, w>; padding = array<i64: top, left, bottom, right>. ----

  // Maximum over each window; padding never wins (it is -inf).
  irdl.operation @max_pool2d {
    %in = irdl.base "!builtin.tensor"
    irdl.operands(input: %in)
    %kernel = irdl.base "#builtin.dense_array"
    %strides = irdl.base "#builtin.dense_array"
    %padding = irdl.base "#builtin.dense_array"
    %dilation = irdl.base "#builtin.dense_array"
    irdl.attributes {"kernel" = %kernel, "strides" = %strides, "padding" = %padding, "dilation" = %dilation}
    %out = irdl.base "!builtin.tensor"
    irdl.results(output: %out)
  }
  // Mean over each window; `count_include_pad` (bool): divide by the full window, padding included.
  irdl.operation @avg_pool2d {
    %in = irdl.base "!builtin.tensor"
    irdl.operands(input: %in)
    %kernel = irdl.base "#builtin.dense_array"
    %strides = irdl.base "#builtin.dense_array"
    %padding = irdl.base "#builtin.dense_array"
    %count_include_pad = irdl.base "#builtin.integer"
    irdl.attributes {"kernel" = %kernel, "strides" = %strides, "padding" = %padding, "count_include_pad" = %count_include_pad}
    %out = irdl.base "!builtin.tensor"
    irdl.results(output: %out)
  }
  // PyTorch's adaptive average pool; the result type gives the output size. Window i of n over
  // a dimension of size s spans [floor(i * s / n), ceil((i + 1) * s / n)).
  irdl.operation @adaptive_avg_pool2d {
    %in = irdl.base "!builtin.tensor"
    irdl.operands(input: %in)
    %out = irdl.base "!builtin.tensor"
    irdl.results(output: %out)
  }

  // ---- Data movement. ----

  // result[i] = input[offsets + i * strides] per dimension; `sizes` is the result shape.
  irdl.operation @slice {
    %in = irdl.base "!builtin.tensor"
    irdl.operands(input: %in)
    %offsets = irdl.base "#builtin.dense_array"
    %sizes = irdl.base "#builtin.dense_array"
    %strides = irdl.base "#builtin.dense_array"
    irdl.attributes {"offsets" = %offsets, "sizes" = %sizes, "strides" = %strides}
    %out = irdl.base "!builtin.tensor"
    irdl.results(output: %out)
  }
  // lhs and rhs joined along `axis`. Binary: IRDL binds one type to every member of a variadic
  // group, so an n-way concatenation is a chain of these.
  irdl.operation @concat {
    %lhs = irdl.base "!builtin.tensor"
    %rhs = irdl.base "!builtin.tensor"
    irdl.operands(lhs: %lhs, rhs: %rhs)
    %axis = irdl.base "#builtin.integer"
    irdl.attributes {"axis" = %axis}
    %out = irdl.base "!builtin.tensor"
    irdl.results(output: %out)
  }
  // numpy.broadcast_to (PyTorch's expand); the result type gives the shape.
  irdl.operation @broadcast_to {
    %in = irdl.base "!builtin.tensor"
    irdl.operands(input: %in)
    %out = irdl.base "!builtin.tensor"
    irdl.results(output: %out)
  }
  // numpy.take(input, indices, axis): the result shape is input.shape[:axis] + indices.shape +
  // input.shape[axis + 1:]; indices are i32 or i64 (negative indices count from the end).
  // An embedding lookup is gather(weight, ids, axis = 0).
  irdl.operation @gather {
    %in = irdl.base "!builtin.tensor"
    %idx = irdl.base "!builtin.tensor"
    irdl.operands(input: %in, indices: %idx)
    %axis = irdl.base "#builtin.integer"
    irdl.attributes {"axis" = %axis}
    %out = irdl.base "!builtin.tensor"
    irdl.results(output: %out)
  }
}
