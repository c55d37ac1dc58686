"""The recurrence written out: one tanh RNN cell, looped over time by hand."""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import nn
from torch.nn import functional as F
from torch.nn.utils.rnn import PackedSequence, pad_packed_sequence

from litzoo.models.rnn.sequence_input import batch_first_tensor, sequence_shape


class SimpleRNNCell(nn.Module):
    """One step of an Elman RNN: ``h' = tanh(W_ih x + b_ih + W_hh h + b_hh)``.

    ``nn.RNNCell`` does the same; it is written out because the tutorial teaches the recurrence by
    hand. The parameters carry ``nn.RNN``'s names, shapes and initialisation (uniform in
    ``+-1/sqrt(hidden_size)``), so a one-layer ``nn.RNN``'s ``state_dict`` loads into the cell as is.
    """

    def __init__(self, input_size: int, hidden_size: int) -> None:
        super().__init__()
        self.hidden_size = hidden_size
        self.weight_ih_l0 = nn.Parameter(torch.empty(hidden_size, input_size))
        self.weight_hh_l0 = nn.Parameter(torch.empty(hidden_size, hidden_size))
        self.bias_ih_l0 = nn.Parameter(torch.empty(hidden_size))
        self.bias_hh_l0 = nn.Parameter(torch.empty(hidden_size))
        bound = 1.0 / math.sqrt(hidden_size)
        for parameter in self.parameters():
            nn.init.uniform_(parameter, -bound, bound)

    def forward(self, x: torch.Tensor, h: torch.Tensor) -> torch.Tensor:
        """The next hidden state from one step's input ``(B, input_size)`` and state ``(B, hidden_size)``."""
        return torch.tanh(
            F.linear(x, self.weight_ih_l0, self.bias_ih_l0) + F.linear(h, self.weight_hh_l0, self.bias_hh_l0)
        )


class HandwrittenRNN(nn.Module):
    """:class:`SimpleRNNCell` looped over the steps, then a linear output on the last step's state.

    Reads the same inputs as :class:`~litzoo.models.RecurrentNet` (``(B, T, F)``, ``(T, B, F)`` with
    ``batch_first=False``, ``(B, 1, H, W)`` images as rows, or a ``PackedSequence``, whose last step
    is each sequence's own). One unidirectional layer: the point is the visible loop.

    Args:
        input_shape: One sample's shape, ``(T, F)`` or ``(1, H, W)`` (linked from the datamodule).
        num_outputs: Classes, or regression targets (linked from the datamodule).
        hidden_size: Features of the hidden state.
        batch_first: Layout of 3-D input tensors: ``(B, T, F)`` if true, ``(T, B, F)`` if false.
    """

    def __init__(
        self, input_shape: Sequence[int], num_outputs: int, hidden_size: int = 64, batch_first: bool = True
    ) -> None:
        super().__init__()
        self.input_shape = tuple(input_shape)
        self.num_outputs = num_outputs
        # Every constructor argument kept, so a task built in Python records how to rebuild this net.
        self.hidden_size = hidden_size
        _, self.num_features = sequence_shape(input_shape, type(self).__name__)
        self.batch_first = batch_first
        self.cell = SimpleRNNCell(self.num_features, hidden_size)
        self.output = nn.Linear(hidden_size, num_outputs)

    def hidden_states(self, x: torch.Tensor) -> torch.Tensor:
        """Every step's hidden state ``(B, T, hidden_size)`` of a batch-first ``(B, T, F)`` tensor, from zeros."""
        h = x.new_zeros(x.shape[0], self.cell.hidden_size)
        states = []
        for step in x.unbind(dim=1):
            h = self.cell(step, h)
            states.append(h)
        return torch.stack(states, dim=1)

    def forward(self, x: torch.Tensor | PackedSequence) -> torch.Tensor:
        if isinstance(x, PackedSequence):
            padded, lengths = pad_packed_sequence(x, batch_first=True)
            states = self.hidden_states(batch_first_tensor(padded, True, self.num_features, "HandwrittenRNN"))
            # Steps past a sequence's end only read zero padding; its own last step is length - 1.
            last = states[torch.arange(states.shape[0]), lengths.to(states.device) - 1]
        else:
            states = self.hidden_states(
                batch_first_tensor(x, self.batch_first, self.num_features, "HandwrittenRNN")
            )
            last = states[:, -1]
        return self.output(last)
