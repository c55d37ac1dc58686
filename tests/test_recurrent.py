"""Recurrent models: shapes for every variant, the hand-written cell against nn.RNN, packed batches."""

from __future__ import annotations

import itertools

import pytest
import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence

from litzoo.cli.lightning_cli import cli_main
from litzoo.models import AttentionPooling, HandwrittenRNN, RecurrentNet, SimpleRNNCell
from tests.conftest import CONFIGS, QUIET

STEPS, FEATURES, BATCH, HIDDEN, OUTPUTS = 6, 3, 4, 5, 2
CELLS = ("rnn", "lstm", "gru")
HEADS = ("last", "attention")
MNIST_CONFIGS = [
    CONFIGS / "mnist" / f"{name}.yaml" for name in ("rnn", "lstm", "gru", "lstm_attention", "birnn")
]
# The fixture's digits carry their class in where a bright square sits; chance is 10%.
LEARNED_ACCURACY = 0.9


def padded_batch(lengths: list[int], seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """A batch-first batch of random sequences of the given lengths, zero-padded to the longest."""
    generator = torch.Generator().manual_seed(seed)
    x = torch.randn(len(lengths), max(lengths), FEATURES, generator=generator)
    lengths_tensor = torch.tensor(lengths)
    x[torch.arange(max(lengths)).unsqueeze(0) >= lengths_tensor.unsqueeze(1)] = 0.0
    return x, lengths_tensor


@pytest.mark.parametrize(
    ("cell", "bidirectional", "batch_first", "head"),
    list(itertools.product(CELLS, (False, True), (True, False), HEADS)),
)
def test_output_shape_for_every_variant(cell, bidirectional, batch_first, head):
    net = RecurrentNet(
        (STEPS, FEATURES),
        OUTPUTS,
        cell,
        HIDDEN,
        bidirectional=bidirectional,
        batch_first=batch_first,
        head=head,
    )
    x = torch.randn(BATCH, STEPS, FEATURES)
    out = net(x if batch_first else x.transpose(0, 1))
    assert out.shape == (BATCH, OUTPUTS)
    if not batch_first:  # the time-major layout is read as such: same outputs as batch-major
        net.batch_first = True
        torch.testing.assert_close(out, net(x))


@pytest.mark.parametrize(
    ("cell", "num_layers", "bidirectional"), list(itertools.product(CELLS, (1, 3), (False, True)))
)
def test_hidden_state_shapes_follow_layers_and_directions(cell, num_layers, bidirectional):
    net = RecurrentNet(
        (STEPS, FEATURES), OUTPUTS, cell, HIDDEN, num_layers=num_layers, bidirectional=bidirectional
    )
    directions = 2 if bidirectional else 1
    x = torch.randn(BATCH, STEPS, FEATURES, dtype=torch.float64)
    state = net.initial_state(BATCH, x)
    states = state if cell == "lstm" else (state,)
    assert len(states) == (2 if cell == "lstm" else 1)
    for tensor in states:
        assert tensor.shape == (num_layers * directions, BATCH, HIDDEN)
        assert tensor.dtype == torch.float64 and not tensor.any()
    outputs, lengths, h_n = net.double().encode(x)
    assert outputs.shape == (BATCH, STEPS, directions * HIDDEN) and lengths is None
    assert h_n.shape == (num_layers * directions, BATCH, HIDDEN)


@pytest.mark.parametrize("cell", CELLS)
def test_last_head_reads_each_directions_final_step(cell):
    net = RecurrentNet((STEPS, FEATURES), OUTPUTS, cell, HIDDEN, num_layers=2, bidirectional=True)
    x = torch.randn(BATCH, STEPS, FEATURES)
    outputs, _, _ = net.encode(x)
    # forward direction at the last step, backward direction at the first step
    pooled = torch.cat([outputs[:, -1, :HIDDEN], outputs[:, 0, HIDDEN:]], dim=1)
    torch.testing.assert_close(net(x), net.output(pooled))


def test_attention_head_is_a_softmax_weighted_sum_of_the_steps():
    net = RecurrentNet((STEPS, FEATURES), OUTPUTS, "gru", HIDDEN, head="attention")
    x = torch.randn(BATCH, STEPS, FEATURES)
    outputs, _, _ = net.encode(x)
    weights = torch.softmax(net.attention.score(outputs).squeeze(-1), dim=1)
    pooled = (weights.unsqueeze(-1) * outputs).sum(dim=1)
    torch.testing.assert_close(net(x), net.output(pooled))


def test_attention_ignores_padded_steps():
    pooling = AttentionPooling(FEATURES)
    outputs, lengths = padded_batch([6, 2, 4])
    weights = pooling.weights(outputs, lengths)
    torch.testing.assert_close(weights.sum(dim=1), torch.ones(3))
    assert not weights[1, 2:].any() and not weights[2, 4:].any() and (weights[0] > 0).all()


def test_images_are_read_row_by_row():
    net = RecurrentNet((1, 7, 9), OUTPUTS, "lstm", HIDDEN)
    images = torch.randn(BATCH, 1, 7, 9)
    torch.testing.assert_close(net(images), net(images.squeeze(1)))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"input_shape": (3, 28, 28)}, "1xHxW images.*3x28x28"),
        ({"input_shape": (10,)}, "gives 10"),
        ({"cell": "transformer"}, "unknown cell 'transformer'"),
        ({"head": "mean"}, "unknown head 'mean'"),
        ({"dropout": 0.2}, "num_layers=1 has none"),
    ],
)
def test_bad_settings_are_rejected_with_the_fix(kwargs, message):
    with pytest.raises(ValueError, match=message):
        RecurrentNet(**{"input_shape": (STEPS, FEATURES), "num_outputs": OUTPUTS, **kwargs})


def test_wrong_feature_count_names_both_sides():
    net = RecurrentNet((STEPS, FEATURES), OUTPUTS)
    with pytest.raises(ValueError, match=f"built for {FEATURES} features per time step but got 7"):
        net(torch.randn(BATCH, STEPS, 7))


def test_dropout_is_passed_between_stacked_layers():
    net = RecurrentNet((STEPS, FEATURES), OUTPUTS, num_layers=2, dropout=0.3)
    assert net.recurrent.dropout == 0.3


def test_handwritten_cell_equals_nn_rnn_at_every_step():
    torch.manual_seed(0)
    reference = nn.RNN(FEATURES, HIDDEN, batch_first=True)
    net = HandwrittenRNN((STEPS, FEATURES), OUTPUTS, HIDDEN)
    net.cell.load_state_dict(reference.state_dict())  # same names and shapes as nn.RNN's layer 0
    x = torch.randn(BATCH, STEPS, FEATURES)
    expected, h_n = reference(x)
    states = net.hidden_states(x)
    torch.testing.assert_close(states, expected)
    torch.testing.assert_close(states[:, -1], h_n[0])
    torch.testing.assert_close(net(x), net.output(h_n[0]))


def test_handwritten_cell_initialises_like_nn_rnn():
    cell = SimpleRNNCell(FEATURES, 100)
    reference = nn.RNN(FEATURES, 100)
    assert {k: v.shape for k, v in cell.state_dict().items()} == {
        k: v.shape for k, v in reference.state_dict().items()
    }
    bound = 100**-0.5
    assert all(p.abs().max() <= bound and p.std() > bound / 3 for p in cell.parameters())


def test_handwritten_rnn_reads_time_major_input_and_images():
    net = HandwrittenRNN((1, STEPS, FEATURES), OUTPUTS, HIDDEN, batch_first=False)
    x = torch.randn(BATCH, STEPS, FEATURES)
    torch.testing.assert_close(net(x.transpose(0, 1)), net(x.unsqueeze(1)))


NETS = {
    **{
        f"{cell}-{head}-{'bi' if bi else 'uni'}": (
            lambda cell=cell, head=head, bi=bi: RecurrentNet(
                (STEPS, FEATURES), OUTPUTS, cell, HIDDEN, num_layers=2, bidirectional=bi, head=head
            )
        )
        for cell, head, bi in itertools.product(CELLS, HEADS, (False, True))
    },
    "handwritten": lambda: HandwrittenRNN((STEPS, FEATURES), OUTPUTS, HIDDEN),
}


@pytest.mark.parametrize("name", list(NETS))
def test_packed_padded_batch_equals_running_each_sequence_alone(name):
    torch.manual_seed(0)
    net = NETS[name]().eval()
    x, lengths = padded_batch([4, 6, 1, 3])  # unsorted, and not padded to the model's STEPS
    packed = pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False)
    with torch.no_grad():
        batched = net(packed)
        alone = torch.cat([net(x[i : i + 1, :length]) for i, length in enumerate(lengths.tolist())])
        padded = net(x)
    torch.testing.assert_close(batched, alone)
    assert not torch.allclose(padded, alone)  # reading the padding would change the outputs


def fixture_mnist(mnist_dir) -> list[str]:
    """Options that point an MNIST config at the test's small offline copy."""
    data = {"data_dir": str(mnist_dir), "download": "false", "val_size": "100"}
    return [arg for key, value in data.items() for arg in (f"--data.init_args.{key}", value)]


@pytest.mark.parametrize("config", MNIST_CONFIGS, ids=lambda p: p.stem)
def test_mnist_config_runs(config, mnist_dir, in_tmp_dir, one_thread):
    args = [
        "fit",
        "--config",
        str(config),
        *fixture_mnist(mnist_dir),
        "--trainer.fast_dev_run",
        "true",
        *QUIET,
    ]
    cli = cli_main(args)
    assert cli.trainer.state.finished
    assert isinstance(cli.model.net, RecurrentNet) and cli.model.net.num_features == 28
    assert cli.trainer.gradient_clip_val == 1.0


def test_lstm_learns_sequential_mnist(mnist_dir, in_tmp_dir, one_thread):
    config = ["--config", str(CONFIGS / "mnist" / "lstm.yaml"), *fixture_mnist(mnist_dir), *QUIET]
    fitted = cli_main(["fit", *config, "--trainer.max_epochs", "8"])
    best = fitted.trainer.checkpoint_callback.best_model_path
    tested = cli_main(["test", *config, "--ckpt_path", best])
    accuracy = tested.trainer.callback_metrics["test/acc"].item()
    assert accuracy > LEARNED_ACCURACY, f"test accuracy {accuracy:.3f} is not above {LEARNED_ACCURACY}"
