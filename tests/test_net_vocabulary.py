"""One vocabulary for what the data decides: every net takes and exposes ``input_shape`` and ``num_outputs``,
and the tasks read both from their net.

The nets are found by walking ``litzoo.models`` (tests/conftest.py's ``discover_nets``), so a new
architecture file is tested here as soon as it exists, exported from ``litzoo.models`` or not.
"""

from __future__ import annotations

import functools
import inspect

import pytest
import torch
from torch import nn

import litzoo.models
from litzoo.cli.lightning_cli import DATA_LINKS, cli_main
from litzoo.models.tasks import ClassificationTask, RegressionTask
from tests.conftest import (
    CONFIGS,
    NET_ARGUMENTS,
    QUIET,
    class_path_of,
    discover_nets,
    experiment_configs,
    import_class,
    read_config,
)

NETS = discover_nets()
#: The input of a net no config trains: 1x32x32 images, which every such net reads (RNNs read 1xHxW as
#: rows). A net that a config trains is built on that config's data, with that config's arguments.
INPUT_SHAPE = (1, 32, 32)
NUM_OUTPUTS = 3


@functools.cache
def configured_nets() -> dict[type, tuple[dict, dict]]:
    """Each net class the experiment configs train -> (its ``init_args``, the ``data`` section) of the
    first config (in path order) that trains it."""
    nets: dict[type, tuple[dict, dict]] = {}
    for config in experiment_configs():
        content = read_config(config)
        net = content["model"].get("init_args", {}).get("net")
        class_path = class_path_of(net)
        if class_path is not None:
            init_args = (net.get("init_args") or {}) if isinstance(net, dict) else {}
            nets.setdefault(import_class(class_path), (init_args, content.get("data") or {}))
    return nets


def build_example(net_class: type) -> tuple[nn.Module, tuple[int, ...]]:
    """The net built as its first config builds it (on that config's data), or with its defaults on
    ``INPUT_SHAPE``; always with ``NUM_OUTPUTS`` outputs. Returns the net and its input shape."""
    init_args, data = configured_nets().get(net_class, ({}, {}))
    input_shape = INPUT_SHAPE
    if class_path_of(data) is not None:
        datamodule = import_class(class_path_of(data))(**(data.get("init_args") or {}))
        input_shape = tuple(datamodule.input_shape)
    parameters = inspect.signature(net_class).parameters.items()
    missing = [
        name
        for name, parameter in parameters
        if parameter.default is inspect.Parameter.empty
        and parameter.kind not in (parameter.VAR_POSITIONAL, parameter.VAR_KEYWORD)
        and name not in (*NET_ARGUMENTS, *init_args)
    ]
    if missing:
        pytest.fail(
            f"{net_class.__name__} needs {', '.join(missing)} (no default) and no config under configs/ "
            "gives them: give them defaults, or add an experiment config that trains the net with them."
        )
    # A list, as a config may give it: the net keeps a tuple.
    return net_class(input_shape=list(input_shape), num_outputs=NUM_OUTPUTS, **init_args), input_shape


def test_nets_are_found_by_walking_the_package():
    names = {net.__name__ for net in NETS}
    assert {"LeNet5", "SimpleCNN", "Feedforward", "RecurrentNet", "ResNet18"} <= names
    # Layers inside nets and the tasks are not nets.
    assert not names & {"AttentionPooling", "DenseLayer", "SeparableConv2d", "SimpleRNNCell"}
    assert not names & {"ClassificationTask", "RegressionTask"}


def test_every_net_a_config_trains_is_found():
    configured = {net for net in configured_nets() if net.__module__.startswith("litzoo.models.")}
    assert configured, "no config trains a net of litzoo.models"
    assert configured <= set(NETS)


def test_the_cli_links_exactly_the_two_names():
    assert set(DATA_LINKS) == set(NET_ARGUMENTS) == {"input_shape", "num_outputs"}


def test_the_cli_links_the_datamodule_sizes_into_the_net(in_tmp_dir):
    cli = cli_main(["--config", str(CONFIGS / "sequence" / "gru.yaml"), *QUIET], run=False)
    net, data = cli.model.net, cli.datamodule
    assert (net.input_shape, net.num_outputs) == (data.input_shape, data.num_outputs) == ((10, 5), 1)
    # What a checkpoint records: the net's config with both values, which the net's class accepts.
    init_args = cli.model.hparams["net"]["init_args"]
    assert (tuple(init_args["input_shape"]), init_args["num_outputs"]) == ((10, 5), 1)


@pytest.mark.parametrize("net_class", NETS, ids=lambda net: net.__name__)
def test_every_net_takes_and_exposes_input_shape_and_num_outputs(net_class):
    assert set(DATA_LINKS) <= set(inspect.signature(net_class).parameters)
    net, input_shape = build_example(net_class)
    assert net.input_shape == input_shape and net.num_outputs == NUM_OUTPUTS
    with torch.no_grad():
        assert net.eval()(torch.zeros(2, *input_shape)).shape == (2, NUM_OUTPUTS)


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
def test_a_net_without_an_input_shape_is_one_clear_error(task_class):
    with pytest.raises(
        ValueError, match=r"^Linear has no input_shape attribute and the task was given none\. "
    ) as error:
        task_class(nn.Linear(4, 2))
    message = str(error.value)
    assert "\n" not in message
    assert "Give the task input_shape" in message and "self.num_outputs = num_outputs" in message


@pytest.mark.parametrize("task_class", [ClassificationTask, RegressionTask])
def test_a_net_of_another_library_takes_the_tasks_input_shape_and_counts_its_outputs(task_class):
    """torchvision's and timm's nets declare neither size: the task's input_shape, outputs from a forward pass."""
    task = task_class(nn.Linear(4, 3), input_shape=(4,))
    assert task.input_shape == (4,) and task.num_outputs == 3


def test_a_net_whose_output_is_not_batch_by_outputs_is_one_clear_error():
    with pytest.raises(
        ValueError, match=r"^Flatten has no num_outputs attribute, and its output .* is not one"
    ):
        RegressionTask(nn.Flatten(0), input_shape=(4,))
