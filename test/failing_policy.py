"""A TorchScript policy with the anymal fixture's seven inputs that loads fine and raises on every call."""

from __future__ import annotations

import torch


class FailingPolicy(torch.nn.Module):
    def forward(self, x0: torch.Tensor, x1: torch.Tensor, x2: torch.Tensor, x3: torch.Tensor, x4: torch.Tensor,
                x5: torch.Tensor, x6: torch.Tensor) -> torch.Tensor:
        if x0.numel() >= 0:
            raise RuntimeError("this policy fails on every run")
        return x0
