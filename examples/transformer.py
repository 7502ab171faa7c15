"""A 2-layer transformer encoder (d_model 256, 4 heads, FFN 1024) from `torch.nn`.

Run it through Strata:  strata run examples/transformer.py
"""

import torch
from torch import nn

torch.manual_seed(0)

layer = nn.TransformerEncoderLayer(
    d_model=256, nhead=4, dim_feedforward=1024, dropout=0.1, batch_first=True
)
model = nn.TransformerEncoder(layer, num_layers=2, enable_nested_tensor=False).eval()
example_inputs = (torch.randn(1, 128, 256),)
