# A model file for `strata run` / `strata compile`: it defines `model` and `example_inputs`.
import torch
from torch import nn

torch.manual_seed(0)
model = nn.Sequential(nn.Linear(16, 32), nn.GELU(), nn.Linear(32, 8)).eval()
example_inputs = (torch.randn(2, 16),)
