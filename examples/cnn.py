"""A small CNN for 32x32 RGB images (CIFAR-10 sized): two conv-batchnorm-relu-maxpool stages and a
classifier, as a plain `torch.nn` module.

Run it through Strata:  strata run examples/cnn.py
For an NVIDIA GPU:     strata compile examples/cnn.py --target cuda -o cnn.strata
"""

import torch
from torch import nn

torch.manual_seed(0)


class CNN(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 32, 3, padding=1),
            nn.BatchNorm2d(32),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(32, 64, 3, padding=1),
            nn.BatchNorm2d(64),
            nn.ReLU(),
            nn.MaxPool2d(2),
        )
        self.classifier = nn.Linear(64 * 8 * 8, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(torch.flatten(self.features(x), 1))


model = CNN().eval()
example_inputs = (torch.randn(4, 3, 32, 32),)
