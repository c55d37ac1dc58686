"""The toy sequence regression: its data, its configs through the CLI, and an LSTM that learns it."""

from __future__ import annotations

import pytest
import torch
from torch.nn.utils.rnn import PackedSequence, pad_packed_sequence

from litzoo.cli.lightning_cli import cli_main
from litzoo.datamodules import SequenceRegressionDataModule
from tests.conftest import CONFIGS, QUIET

SEQUENCE_CONFIGS = sorted((CONFIGS / "sequence").glob("*.yaml"))
# Predicting the mean of the targets scores val MSE = Var(target); only a net that learned to sum
# over time gets below this fraction of it.
LEARNED_FRACTION_OF_VARIANCE = 0.1


def datamodule(**kwargs) -> SequenceRegressionDataModule:
    dm = SequenceRegressionDataModule(**{"train_size": 40, "val_size": 30, "test_size": 20, **kwargs})
    dm.setup("fit")
    return dm


def test_shapes_and_data_attributes():
    dm = datamodule(num_steps=7, num_features=3, batch_size=16)
    assert dm.input_shape == (7, 3) and dm.num_outputs == 1
    assert not hasattr(dm, "num_classes")  # regression: no classes, only outputs
    x, y = next(iter(dm.train_dataloader()))
    assert x.shape == (16, 7, 3) and y.shape == (16, 1)
    assert [len(dm.splits[s]) for s in ("train", "val", "test")] == [40, 30, 20]


def test_target_is_the_sum_over_time_of_the_mean_feature():
    x, y = datamodule().splits["val"].tensors
    torch.testing.assert_close(y, x.sum(dim=1).mean(dim=1, keepdim=True))
    assert abs(x.mean()) < 0.1 and abs(x.std() - 1) < 0.1  # unit Gaussians


def test_data_depends_on_its_own_seed_only():
    torch.manual_seed(1)
    first = datamodule(seed=3).splits["train"].tensors[0]
    torch.manual_seed(2)
    again = datamodule(seed=3).splits["train"].tensors[0]
    other = datamodule(seed=4).splits["train"].tensors[0]
    assert torch.equal(first, again) and not torch.equal(first, other)
    splits = datamodule(seed=3).splits
    assert not torch.equal(splits["train"].tensors[0][:20], splits["test"].tensors[0])


def test_variable_length_batches_are_packed_and_targets_read_true_steps_only():
    dm = datamodule(num_steps=8, variable_length=True, min_length=3, batch_size=40)
    padded, lengths, y = dm.splits["train"].tensors
    assert lengths.min() >= 3 and lengths.max() <= 8 and len(lengths.unique()) > 1
    steps = torch.arange(8).unsqueeze(0)
    assert not padded[steps >= lengths.unsqueeze(1)].any()  # zero padding after each end
    torch.testing.assert_close(y, padded.sum(dim=1).mean(dim=1, keepdim=True))

    x, y_batch = next(iter(dm.val_dataloader()))
    assert isinstance(x, PackedSequence) and y_batch.shape == (30, 1)
    unpacked, batch_lengths = pad_packed_sequence(x, batch_first=True)
    val_padded, val_lengths, val_y = dm.splits["val"].tensors
    assert torch.equal(batch_lengths, val_lengths) and torch.equal(y_batch, val_y)  # order kept
    assert torch.equal(unpacked, val_padded[:, : int(val_lengths.max())])


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"train_size": 0}, "train_size must be at least 2"),
        ({"test_size": 1}, r"test_size must be at least 2 \(a split's R² needs two samples\), got 1"),
        ({"batch_size": 0}, "batch_size must be at least 1, got 0. Set --data.init_args.batch_size"),
        ({"variable_length": True, "min_length": 11}, "exceeds"),
    ],
)
def test_bad_sizes_are_rejected(kwargs, message):
    with pytest.raises(ValueError, match=message):
        SequenceRegressionDataModule(**kwargs)


@pytest.mark.parametrize("config", SEQUENCE_CONFIGS, ids=lambda p: p.stem)
def test_sequence_config_runs(config, in_tmp_dir, one_thread):
    cli = cli_main(["fit", "--config", str(config), "--trainer.fast_dev_run", "true", *QUIET])
    assert cli.trainer.state.finished
    assert cli.trainer.gradient_clip_val == 1.0 and cli.trainer.gradient_clip_algorithm == "norm"


@pytest.mark.parametrize("net", ["litzoo.models.RecurrentNet", "litzoo.models.HandwrittenRNN"])
def test_variable_length_sequences_train_through_the_cli(net, in_tmp_dir, one_thread):
    args = ["--config", str(CONFIGS / "sequence" / "lstm.yaml"), "--data.init_args.variable_length", "true"]
    if net == "litzoo.models.HandwrittenRNN":
        args += ["--model.init_args.net", net, "--model.init_args.net.init_args.hidden_size", "8"]
    else:
        args += ["--model.init_args.net.init_args.head", "attention"]
    cli = cli_main(["fit", *args, "--trainer.fast_dev_run", "true", *QUIET])
    assert type(cli.model.net).__name__ == net.rsplit(".", 1)[1]
    assert torch.isfinite(cli.trainer.callback_metrics["val/mse"])


def test_lstm_learns_the_sum_over_time(in_tmp_dir, one_thread):
    sizes = ["--data.init_args.train_size", "640", "--data.init_args.val_size", "256"]
    cli = cli_main(
        [
            "fit",
            "--config",
            str(CONFIGS / "sequence" / "lstm.yaml"),
            *sizes,
            "--trainer.max_epochs",
            "5",
            *QUIET,
        ]
    )
    val_targets = cli.datamodule.splits["val"].tensors[-1]
    bound = LEARNED_FRACTION_OF_VARIANCE * val_targets.var(correction=0).item()
    best = cli.trainer.checkpoint_callback.best_model_score.item()
    assert best < bound, f"best val/mse {best:.4f} is not below {bound:.4f} (10% of the target variance)"
