"""Recurrent sequence models: torch's RNN/LSTM/GRU with pooling heads, and a hand-written RNN."""

from litzoo.models.rnn.handwritten import HandwrittenRNN, SimpleRNNCell
from litzoo.models.rnn.heads import AttentionPooling, final_states
from litzoo.models.rnn.recurrent_net import RecurrentNet

__all__ = ["AttentionPooling", "HandwrittenRNN", "RecurrentNet", "SimpleRNNCell", "final_states"]
