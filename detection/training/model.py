"""The network: torchvision's ResNet34 with a 1-channel first convolution and two classes."""

import torch
from torch import nn
from torchvision.models import resnet34

SCREAM_INDEX = 1  # output index of the scream class


def build_resnet34() -> nn.Module:
    """ResNet34 from scratch for (N, 1, mels, frames) log-mel input; outputs logits of shape (N, 2)."""
    model = resnet34(weights=None, num_classes=2)
    model.conv1 = nn.Conv2d(1, 64, kernel_size=7, stride=2, padding=3, bias=False)
    nn.init.kaiming_normal_(model.conv1.weight, mode="fan_out", nonlinearity="relu")
    return model


class WithProbabilities(nn.Module):
    """The served graph: softmax probabilities of shape (N, 2); index 1 is the scream probability."""

    def __init__(self, model: nn.Module):
        super().__init__()
        self.model = model

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        return torch.softmax(self.model(features), dim=1)
