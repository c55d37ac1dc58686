"""``--cpu_threads``: small CPU steps run on one thread unless the user chose, large ones keep PyTorch's default."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import torch
from torch.utils.flop_counter import FlopCounterMode

from litzoo.cli.cpu_threads import (
    ONE_THREAD_BELOW_FLOPS,
    THREADS_VARIABLE,
    set_cpu_threads,
    training_step_flops,
)
from litzoo.cli.lightning_cli import cli_main
from litzoo.models import Feedforward, LeNet5, RecurrentNet
from tests.conftest import CONFIGS, QUIET

TINY = ["--config", str(CONFIGS / "regression" / "mlp.yaml"), "--trainer.max_epochs", "1", *QUIET]
TINY += ["--data.init_args.train_size", "64", "--data.init_args.val_size", "64"]


@pytest.fixture
def restore_threads(monkeypatch) -> Iterator[None]:
    monkeypatch.delenv(THREADS_VARIABLE, raising=False)
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    yield
    torch.set_num_threads(before)


def test_the_sin_mlp_trains_on_one_thread_by_default(in_tmp_dir, restore_threads):
    cli_main(["fit", *TINY])
    assert torch.get_num_threads() == 1


def test_an_explicit_count_wins(in_tmp_dir, restore_threads):
    cli_main(["fit", *TINY, "--cpu_threads", "2"])
    assert torch.get_num_threads() == 2


def test_omp_num_threads_in_the_environment_is_left_in_force(in_tmp_dir, restore_threads, monkeypatch):
    monkeypatch.setenv(THREADS_VARIABLE, "2")
    cli_main(["fit", *TINY])
    assert torch.get_num_threads() == 2


def test_a_large_step_keeps_pytorchs_threads(restore_threads):
    net = Feedforward(input_shape=(1, 64, 64), num_outputs=10, depth=3, hidden_sizes=[2048, 2048])
    assert training_step_flops(net, torch.zeros(64, 1, 64, 64)) > ONE_THREAD_BELOW_FLOPS
    set_cpu_threads(None, net, (1, 64, 64), batch_size=64)
    assert torch.get_num_threads() == 2


def test_a_thread_count_below_one_is_refused(restore_threads):
    with pytest.raises(ValueError, match="--cpu_threads 0"):
        set_cpu_threads(0, Feedforward((1,), 1, depth=2, hidden_sizes=[8]), (1,), batch_size=64)


def test_recurrent_layers_are_counted():
    """torch's flop counter misses the fused CPU LSTM kernel; litzoo counts its weights' uses."""
    net = RecurrentNet(input_shape=(28, 28), num_outputs=10, cell="lstm", hidden_size=128)
    inputs = torch.zeros(4, 28, 28)
    with FlopCounterMode(display=False) as counter:
        net(inputs).sum().backward()
    weights = sum(p.numel() for name, p in net.recurrent.named_parameters() if name.startswith("weight"))
    assert training_step_flops(net, inputs) >= counter.get_total_flops() + 6 * weights * 4 * 28


def test_lenet5_at_batch_64_keeps_pytorchs_threads(restore_threads):
    """Measured (results/cpu_threads.md): two threads step LeNet-5 faster on a quiet 2-core machine."""
    net = LeNet5(input_shape=(1, 32, 32), num_outputs=10)
    set_cpu_threads(None, net, (1, 32, 32), batch_size=64)
    assert torch.get_num_threads() == 2
