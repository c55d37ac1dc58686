"""Hyperparameters of a task built in Python, as the config the CLI would have recorded.

``TaskModule(net=LeNet5(...), optimizer=functools.partial(torch.optim.Adam, lr=1e-3))`` hands the
task live objects: a module and a callable. Lightning would pickle them into the checkpoint's
hyperparameters, which torch's default ``torch.load(weights_only=True)`` then refuses, and it warns
about the module. Instead each is recorded the way the CLI records it, ``{"class_path": ...,
"init_args": {...}}`` of plain values, with Lightning's CLI instantiator, so
``Task.load_from_checkpoint(path)`` rebuilds the same task from the checkpoint alone, exactly as
it does for a checkpoint of ``litzoo fit``.

A net is described by its constructor's arguments read back from the attributes of the same
names (every litzoo net keeps them: ``self.depth = depth``), and the description is checked by
building it again and comparing the parameter shapes; a net it cannot describe (a builder
function's result, say ``torchvision.models.resnet18()``) is left out, and loading it back then
takes the net: ``Task.load_from_checkpoint(path, net=resnet18(num_classes=10))``.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Mapping
from typing import Any

from torch import nn

#: Lightning's CLI instantiator, which ``load_from_checkpoint`` trusts to rebuild ``class_path`` configs.
CLI_INSTANTIATOR = "lightning.pytorch.cli.instantiate_module"
PLAIN_TYPES = (bool, int, float, str, type(None))


def plain(value: Any) -> bool:
    """Whether ``value`` is YAML-plain: numbers, strings, None, and lists/tuples/dicts of them."""
    if isinstance(value, PLAIN_TYPES):
        return True
    if isinstance(value, list | tuple):
        return all(plain(item) for item in value)
    if isinstance(value, Mapping):
        return all(isinstance(key, str) and plain(item) for key, item in value.items())
    return False


def as_yaml(value: Any) -> Any:
    """Tuples as lists, recursively, as a YAML config holds them."""
    if isinstance(value, list | tuple):
        return [as_yaml(item) for item in value]
    if isinstance(value, Mapping):
        return {key: as_yaml(item) for key, item in value.items()}
    return value


def class_path(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


def constructor_arguments(obj: object) -> dict[str, Any] | None:
    """``obj``'s constructor arguments, read from its attributes of the same names, or None.

    None when an argument has no attribute (even one with a default: the net may have been built
    with another value), or one is not plain.
    """
    arguments = {}
    parameters = list(inspect.signature(type(obj).__init__).parameters.values())[1:]
    for parameter in parameters:
        if parameter.kind in (parameter.VAR_POSITIONAL, parameter.VAR_KEYWORD):
            continue
        if not hasattr(obj, parameter.name):
            return None
        value = getattr(obj, parameter.name)
        if not plain(value):
            return None
        arguments[parameter.name] = as_yaml(value)
    return arguments


def describe_net(net: nn.Module) -> dict[str, Any] | None:
    """``{"class_path", "init_args"}`` that rebuilds ``net``'s architecture, or None.

    Checked by building the description once and comparing every parameter's and buffer's name and
    shape, so an attribute that shares an argument's name but not its meaning is caught.
    """
    arguments = constructor_arguments(net)
    if arguments is None:
        return None
    try:
        rebuilt = type(net)(**arguments)
    except (TypeError, ValueError):
        return None
    shapes = {name: tensor.shape for name, tensor in net.state_dict().items()}
    if shapes != {name: tensor.shape for name, tensor in rebuilt.state_dict().items()}:
        return None
    return {"class_path": class_path(type(net)), "init_args": arguments}


def describe_callable(factory: Callable | None) -> dict[str, Any] | None:
    """A class, or a partial of one with plain keywords, as ``{"class_path", "init_args"}``; else None.

    The partial is ``functools.partial(Class, **plain)`` as a user writes it, or the one jsonargparse
    makes of a config (``partial(instantiate, ..., Class, **init_args)``: the class among its arguments),
    which is what a task rebuilt by ``load_from_checkpoint`` holds.
    """
    if inspect.isclass(factory):
        return {"class_path": class_path(factory)}
    if not isinstance(factory, functools.partial) or not plain(factory.keywords):
        return None
    if inspect.isclass(factory.func) and not factory.args:
        cls = factory.func
    else:
        classes = [arg for arg in factory.args if inspect.isclass(arg)]
        if len(classes) != 1 or not all(callable(arg) for arg in factory.args):
            return None
        cls = classes[0]
    return {"class_path": class_path(cls), "init_args": as_yaml(factory.keywords)}


def describe_object(obj: object) -> dict[str, Any] | None:
    """An object (a task's ``steps`` piece) as ``{"class_path", "init_args"}`` from its attributes."""
    arguments = constructor_arguments(obj)
    return None if arguments is None else {"class_path": class_path(type(obj)), "init_args": arguments}


def plain_hyperparameters(live: Mapping[str, Any]) -> dict[str, Any]:
    """The recordable form of a Python-built task's live arguments.

    ``live``: the arguments that are objects (``net``, ``optimizer``, ``scheduler``, ``steps``).
    ``None`` stays ``None``; an object that cannot be described is left out (the task's default,
    or a ``load_from_checkpoint`` keyword, then stands in for it).
    """
    described: dict[str, Any] = {}
    for name, value in live.items():
        if value is None:
            described[name] = None
            continue
        if isinstance(value, nn.Module):
            description = describe_net(value)
        elif inspect.isclass(value) or isinstance(value, functools.partial):
            description = describe_callable(value)
        elif callable(value):  # a lambda or function: no config can name it
            description = None
        else:
            description = describe_object(value)
        if description is not None:
            described[name] = description
    if described:
        described["_instantiator"] = CLI_INSTANTIATOR
    return described
