"""The tutorial's hand-built multilayer perceptron: dense layers with explicit weight matrices."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import torch
from torch import nn

#: Activations a :class:`DenseLayer` accepts by name.
ACTIVATIONS: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {
    "relu": torch.relu,
    "sigmoid": torch.sigmoid,
    "tanh": torch.tanh,
    "softmax": lambda x: torch.softmax(x, dim=-1),
    "linear": lambda x: x,
}


class DenseLayer(nn.Module):
    """``activation(x @ W + b)`` with ``W`` an ``(input_dim, output_dim)`` parameter.

    Written out instead of ``nn.Linear`` because the tutorial teaches the layer this way; the weight
    layout (in, out) and the initialisation (Xavier-uniform weights, zero bias) follow it.
    """

    def __init__(self, input_dim: int, output_dim: int, activation: str = "relu") -> None:
        super().__init__()
        if activation not in ACTIVATIONS:
            raise ValueError(
                f"DenseLayer: unknown activation {activation!r}. "
                f"Choose one of {', '.join(sorted(ACTIVATIONS))}."
            )
        self.activation = activation
        self.weight = nn.Parameter(torch.empty(input_dim, output_dim))
        self.bias = nn.Parameter(torch.zeros(output_dim))
        nn.init.xavier_uniform_(self.weight)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return ACTIVATIONS[self.activation](torch.addmm(self.bias, x, self.weight))

    def extra_repr(self) -> str:
        return f"input_dim={self.weight.shape[0]}, output_dim={self.weight.shape[1]}, activation={self.activation}"


class Feedforward(nn.Module):
    """A stack of ``depth`` dense layers: ReLU hidden layers and a linear output layer.

    The output is raw (logits for classification): the loss applies softmax itself, so the tutorial's
    softmax-before-CrossEntropyLoss (softmax applied twice) is not reproduced. Inputs of any shape are
    flattened after the batch dimension, so the same net reads ``(B, 1)`` regression inputs and
    ``(B, 1, 28, 28)`` images.

    Args:
        input_shape: Shape of one sample, linked from the datamodule; the first layer reads its
            ``prod(input_shape)`` features.
        num_outputs: Outputs per sample (classes, or regression targets), linked from the datamodule.
        depth: Number of dense layers; must equal ``len(hidden_sizes) + 1``.
        hidden_sizes: Width of each hidden layer.
    """

    def __init__(
        self, input_shape: Sequence[int], num_outputs: int, depth: int, hidden_sizes: Sequence[int]
    ) -> None:
        super().__init__()
        self.input_shape = tuple(input_shape)
        self.num_outputs = num_outputs
        # Every constructor argument kept, so a task built in Python records how to rebuild this net.
        self.depth = depth
        self.hidden_sizes = list(hidden_sizes)
        hidden_sizes = list(hidden_sizes)
        if depth != len(hidden_sizes) + 1:
            raise ValueError(
                f"Feedforward: depth={depth} needs exactly depth - 1 = {depth - 1} hidden sizes, "
                f"got {len(hidden_sizes)} ({hidden_sizes}). Set depth to {len(hidden_sizes) + 1} "
                "or list one hidden size per hidden layer."
            )
        widths = [math.prod(self.input_shape), *hidden_sizes, num_outputs]
        activations = ["relu"] * len(hidden_sizes) + ["linear"]
        self.layers = nn.Sequential(
            *(
                DenseLayer(w_in, w_out, act)
                for w_in, w_out, act in zip(widths, widths[1:], activations, strict=False)
            )
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.layers(x.flatten(1))
