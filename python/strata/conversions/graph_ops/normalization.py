"""graph.softmax and graph.layer_norm: reductions with their elementwise producers/consumers."""
