"""One vocabulary for what the data decides: every net takes and exposes ``input_shape`` and ``num_outputs``,
and the tasks read both from their net."""

from __future__ import annotations

import inspect

import litzoo.models
import pytest
import torch
from litzoo.models.tasks import ClassificationTask, RegressionTask
from torch import nn

from litzoo.cli import DATA_LINKS, cli_main
from tests.conftest import CONFIGS, QUIET

#: Exports of ``models`` that are layers inside a net, not nets the CLI builds: they keep torch's
#: layer-style names (``in_features``...).
BUILDING_BLOCKS = {"AttentionPooling", "DenseLayer", "SeparableConv2d", "SimpleRNNCell"}
WHOLE_NETS = sorted(set(litzoo.models.__all__) - BUILDING_BLOCKS)
#: Arguments without a default other than the two linked ones.
REQUIRED = {"Feedforward": {"depth": 2, "hidden_sizes": [8]}}
#: 1x32x32 images: every net reads them (LeNet-5 needs 32x32, VGG five pools, RNNs read 1xHxW as rows).
INPUT_SHAPE = (1, 32, 32)
NUM_OUTPUTS = 3


def test_building_blocks_are_exports_of_models():
    assert BUILDING_BLOCKS.issubset(litzoo.models.__all__)


def test_the_cli_links_exactly_the_two_names():
    assert set(DATA_LINKS) == {"input_shape", "num_outputs"}


def test_the_cli_links_the_datamodule_sizes_into_the_net(in_tmp_dir):
    cli = cli_main(["--config", str(CONFIGS / "sequence" / "gru.yaml"), *QUIET], run=False)
    net, data = cli.model.net, cli.datamodule
    assert (net.input_shape, net.num_outputs) == (data.input_shape, data.num_outputs) == ((10, 5), 1)
    # What a checkpoint records: the net's config with both values, which the net's class accepts.
    init_args = cli.model.hparams["net"]["init_args"]
    assert (tuple(init_args["input_shape"]), init_args["num_outputs"]) == ((10, 5), 1)


@pytest.mark.parametrize("name", WHOLE_NETS)
def test_every_net_takes_and_exposes_input_shape_and_num_outputs(name):
    net_class = getattr(litzoo.models, name)
    assert set(DATA_LINKS) <= set(inspect.signature(net_class).parameters)
    # A list, as a config may give it: the net keeps a tuple.
    net = net_class(input_shape=list(INPUT_SHAPE), num_outputs=NUM_OUTPUTS, **REQUIRED.get(name, {}))
    assert net.input_shape == INPUT_SHAPE and net.num_outputs == NUM_OUTPUTS
    with torch.no_grad():
        assert net.eval()(torch.zeros(2, *INPUT_SHAPE)).shape == (2, NUM_OUTPUTS)


def test_tasks_take_their_sizes_from_the_net():
    net = litzoo.models.Feedforward((1, 28, 28), 7, depth=2, hidden_sizes=[8])
    task = ClassificationTask(net)
    assert task.num_classes == task.num_outputs == 7
    assert task.val_metrics["acc"].num_classes == 7
    assert task.example_input_array.shape == (2, 1, 28, 28)


def test_a_plain_module_with_the_two_attributes_is_a_net():
    net = nn.Sequential(nn.Flatten(), nn.Linear(4, 2))
    net.input_shape, net.num_outputs = (4,), 2
    assert RegressionTask(net).val_metrics["mse"].num_outputs == 2


@pytest.mark.parametrize("task_class", [ClassificationTask, RegressionTask])
def test_a_net_without_the_attributes_is_one_clear_error(task_class):
    with pytest.raises(
        ValueError, match=r"^Linear has no input_shape or num_outputs attribute\. .*"
    ) as error:
        task_class(nn.Linear(4, 2))
    message = str(error.value)
    assert "\n" not in message
    assert "input_shape and num_outputs arguments" in message and "self.num_outputs = num_outputs" in message


def test_the_error_names_only_the_missing_attribute():
    net = nn.Linear(4, 2)
    net.input_shape = (4,)
    with pytest.raises(ValueError, match=r"^Linear has no num_outputs attribute\."):
        RegressionTask(net)
