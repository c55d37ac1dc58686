"""``hparams.yaml`` as plain YAML, which ``yaml.safe_load`` (and any YAML reader) reads.

Lightning's loggers write the hyperparameters they are given with ``yaml.dump``, which keeps Python
types: a tuple becomes ``!!python/tuple`` (the ``input_shape`` the CLI links from the datamodule), an
object seen twice becomes an ``&id001`` anchor, a class becomes ``!!python/name:...``. And the CLI's
hyperparameters carry ``_instantiator``, LightningCLI's note of how to rebuild the task from a
checkpoint. The loggers here record a plain copy instead; the task's own hyperparameters, and with
them the checkpoints (``_instantiator`` included) and ``load_from_checkpoint``, stay as they are.
"""

from __future__ import annotations

import argparse
import enum
import os
from collections.abc import Mapping
from typing import Any


def plain_hparams(value: Any) -> Any:
    """``value`` as plain data: dicts without private (``_``) keys, lists, strings, numbers, bools, None.

    Tuples become lists; a class or function becomes its import path (``torch.optim.adam.Adam``);
    a tensor or array its list; any other object (a net built in Python) its class's import path if
    it is callable, else its text. Every container is new, so nothing is written twice as an anchor.
    """
    if isinstance(value, argparse.Namespace):
        value = vars(value)
    if isinstance(value, Mapping):
        return {str(key): plain_hparams(item) for key, item in value.items() if not str(key).startswith("_")}
    if isinstance(value, list | tuple | set | frozenset):
        return [plain_hparams(item) for item in value]
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, enum.Enum):
        return plain_hparams(value.value)
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    if hasattr(value, "tolist"):
        return plain_hparams(value.tolist())
    if callable(value):
        named = value if hasattr(value, "__qualname__") else type(value)
        return f"{named.__module__}.{named.__qualname__}"
    return str(value)


class PlainHParams:
    """Mixin for a Lightning logger: the hyperparameters it records (``hparams.yaml``) are plain data."""

    def log_hyperparams(self, params: Any, *args: Any, **kwargs: Any) -> None:
        super().log_hyperparams(plain_hparams(params), *args, **kwargs)
