"""The MLC course's MLP (784 -> 128 -> 10) as a plain `torch.nn` module.

Run it through Strata:  strata run examples/mlp.py
"""

import torch
from torch import nn

torch.manual_seed(0)


class MLP(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.linear0 = nn.Linear(784, 128)
        self.linear1 = nn.Linear(128, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.linear1(torch.relu(self.linear0(x)))


model = MLP().eval()
example_inputs = (torch.randn(1, 784),)
