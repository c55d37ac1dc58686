"""RNN, LSTM and GRU sequence models (uni- or bidirectional, stacked) with a last-step or attention head."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import torch
from torch import nn
from torch.nn.utils.rnn import PackedSequence, pad_packed_sequence

from litzoo.models.rnn.heads import AttentionPooling, final_states
from litzoo.models.rnn.sequence_input import (
    batch_first_tensor,
    batch_size_of,
    check_features,
    packed_features,
    sequence_shape,
)

Cell = Literal["rnn", "lstm", "gru"]
Head = Literal["last", "attention"]
RECURRENT_LAYERS: dict[str, type[nn.RNNBase]] = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}
HEADS = ("last", "attention")
State = torch.Tensor | tuple[torch.Tensor, torch.Tensor]


class RecurrentNet(nn.Module):
    """A stack of ``nn.RNN`` / ``nn.LSTM`` / ``nn.GRU`` layers and a linear output on a pooled state.

    Input: ``(B, T, F)`` (``(T, B, F)`` with ``batch_first=False``), ``(B, 1, H, W)`` images read as
    ``H`` steps of ``W`` features (sequential MNIST), or a ``PackedSequence`` (which has no batch
    or time axis) for a batch of sequences of different lengths, as
    :class:`~litzoo.datamodules.SequenceRegressionDataModule` yields with ``variable_length=True``; a packed
    batch gives the same outputs as running each sequence alone. Output: ``(B, num_outputs)``,
    logits for classification.

    Args:
        input_shape: One sample's shape, ``(T, F)`` or ``(1, H, W)`` (linked from the datamodule).
        num_outputs: Classes, or regression targets (linked from the datamodule).
        cell: The recurrent layer: ``"rnn"`` (tanh), ``"lstm"`` or ``"gru"``.
        hidden_size: Features of the hidden state, per direction.
        num_layers: Stacked recurrent layers.
        bidirectional: Also read every sequence backwards; the state width doubles.
        dropout: Dropout between stacked layers (so only with ``num_layers > 1``, as torch's RNNs apply it).
        batch_first: Layout of 3-D input tensors: ``(B, T, F)`` if true, ``(T, B, F)`` if false.
        head: ``"last"``: each direction's final state (forward at the true last step, backward at
            step 0). ``"attention"``: a learned score per step, softmax over the (unpadded) steps, and
            the weighted sum of the top layer's outputs.
    """

    def __init__(
        self,
        input_shape: Sequence[int],
        num_outputs: int,
        cell: Cell = "lstm",
        hidden_size: int = 64,
        num_layers: int = 1,
        bidirectional: bool = False,
        dropout: float = 0.0,
        batch_first: bool = True,
        head: Head = "last",
    ) -> None:
        super().__init__()
        self.input_shape = tuple(input_shape)
        self.num_outputs = num_outputs
        # Every constructor argument kept, so a task built in Python records how to rebuild this net.
        self.bidirectional = bidirectional
        self.dropout = dropout
        check_choices(cell, head, hidden_size, num_layers, dropout)
        _, self.num_features = sequence_shape(input_shape, type(self).__name__)
        self.cell = cell
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.num_directions = 2 if bidirectional else 1
        self.batch_first = batch_first
        self.head = head
        # Built batch-first whatever the input layout: inputs are brought to (B, T, F) on entry, so the
        # heads see one layout.
        self.recurrent = RECURRENT_LAYERS[cell](
            self.num_features,
            hidden_size,
            num_layers=num_layers,
            batch_first=True,
            dropout=dropout,
            bidirectional=bidirectional,
        )
        width = hidden_size * self.num_directions
        self.attention = AttentionPooling(width) if head == "attention" else None
        self.output = nn.Linear(width, num_outputs)

    def initial_state(self, batch_size: int, like: torch.Tensor) -> State:
        """Zero state ``(num_layers * num_directions, B, hidden_size)`` on ``like``'s device and dtype.

        Torch's RNNs make the same zeros when given no state; it is built here so the shape the
        stacked, bidirectional layers expect is written down once (and tested). LSTMs get ``(h0, c0)``.
        """
        shape = (self.num_layers * self.num_directions, batch_size, self.hidden_size)
        h0 = torch.zeros(shape, device=like.device, dtype=like.dtype)
        return (h0, torch.zeros_like(h0)) if self.cell == "lstm" else h0

    def encode(
        self, x: torch.Tensor | PackedSequence
    ) -> tuple[torch.Tensor, torch.Tensor | None, torch.Tensor]:
        """Run the recurrent layers on ``x``.

        Returns the top layer's outputs ``(B, T, num_directions * H)`` (zero after each sequence's
        end), the lengths (``None`` for an unpacked batch, where every sequence has all ``T`` steps)
        and the final hidden states ``(num_layers * num_directions, B, H)``.
        """
        name = type(self).__name__
        if isinstance(x, PackedSequence):
            check_features(packed_features(x), self.num_features, name)
            packed, state = self.recurrent(x, self.initial_state(batch_size_of(x), x.data))
            outputs, lengths = pad_packed_sequence(packed, batch_first=True)
        else:
            x = batch_first_tensor(x, self.batch_first, self.num_features, name)
            outputs, state = self.recurrent(x, self.initial_state(x.shape[0], x))
            lengths = None
        h_n = state[0] if self.cell == "lstm" else state
        return outputs, lengths, h_n

    def forward(self, x: torch.Tensor | PackedSequence) -> torch.Tensor:
        outputs, lengths, h_n = self.encode(x)
        pooled = (
            final_states(h_n, self.num_directions)
            if self.attention is None
            else self.attention(outputs, lengths)
        )
        return self.output(pooled)


def check_choices(cell: str, head: str, hidden_size: int, num_layers: int, dropout: float) -> None:
    """Reject settings torch would reject late or ignore silently, naming the fix."""
    if cell not in RECURRENT_LAYERS:
        raise ValueError(f"RecurrentNet: unknown cell {cell!r}. Choose one of {', '.join(RECURRENT_LAYERS)}.")
    if head not in HEADS:
        raise ValueError(f"RecurrentNet: unknown head {head!r}. Choose one of {', '.join(HEADS)}.")
    if hidden_size < 1 or num_layers < 1:
        raise ValueError(
            f"RecurrentNet: hidden_size and num_layers must be at least 1, got {hidden_size} and {num_layers}."
        )
    if not 0.0 <= dropout < 1.0:
        raise ValueError(f"RecurrentNet: dropout must be in [0, 1), got {dropout}.")
    if dropout > 0 and num_layers == 1:
        raise ValueError(
            f"RecurrentNet: dropout={dropout} acts between stacked layers, and num_layers=1 has none. "
            "Set num_layers >= 2, or dropout 0."
        )
