"""What turns a recurrent layer's outputs into one vector per sequence: final states or attention."""

from __future__ import annotations

import torch
from torch import nn


def final_states(h_n: torch.Tensor, num_directions: int) -> torch.Tensor:
    """The top layer's final state of every direction, concatenated: ``(B, num_directions * H)``.

    ``h_n`` is ``(num_layers * num_directions, B, H)`` as torch's RNNs return it. The forward
    direction ends at each sequence's true last step, the backward one at step 0, so this equals
    ``cat(outputs[b, length_b - 1, :H], outputs[b, 0, H:])`` and ignores padding by construction.
    """
    top = h_n[-num_directions:]  # (num_directions, B, H), forward first
    return top.transpose(0, 1).reshape(h_n.shape[1], -1)


class AttentionPooling(nn.Module):
    """Weighted sum of the steps: a learned score per step, softmax over time, padded steps masked.

    Args:
        features: Width of one step's output (``hidden_size * num_directions``).
    """

    def __init__(self, features: int) -> None:
        super().__init__()
        self.score = nn.Linear(features, 1)

    def weights(self, outputs: torch.Tensor, lengths: torch.Tensor | None = None) -> torch.Tensor:
        """Attention over the steps of ``outputs`` ``(B, T, features)``: ``(B, T)``, rows sum to 1."""
        scores = self.score(outputs).squeeze(-1)
        if lengths is not None:
            steps = torch.arange(outputs.shape[1], device=outputs.device)
            padding = steps.unsqueeze(0) >= lengths.to(outputs.device).unsqueeze(1)
            scores = scores.masked_fill(padding, float("-inf"))
        return torch.softmax(scores, dim=1)

    def forward(self, outputs: torch.Tensor, lengths: torch.Tensor | None = None) -> torch.Tensor:
        """``(B, features)``: the attention-weighted mean of the steps."""
        return torch.einsum("bt,btf->bf", self.weights(outputs, lengths), outputs)
