"""graph.conv2d."""
