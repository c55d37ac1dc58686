"""Read a command line exactly as ``litzoo fit`` would, without training, seeding or writing anything.

A sweep checks its search space against the config its trials will train, and learns the task's
metric and the experiment's folder, before it creates a study or a run folder. The parse is the
CLI's own (same parser, defaults, configs and overrides), through LightningCLI's ``run=False`` and
its documented hooks. Parsing alone misses the values a class refuses when it is built (a negative
learning rate is a float, which the parser accepts; Adam raises in the first trial), so a sweep can
also build what a trial builds first, data, task with its net, and optimizer, without a trainer.
"""

from __future__ import annotations

from jsonargparse import ArgumentError, Namespace
from lightning.fabric.utilities.exceptions import MisconfigurationException

from litzoo.cli.lightning_cli import LitzooCLI, cli_main, clip_chunks_like_the_trainer
from litzoo.cli.parse_errors import short_parse_error
from litzoo.cli.user_errors import root_cause
from litzoo.faults.option_checks import trainer_option_problem

#: What a constructor raises for a value it cannot take (an optimizer, a net, a datamodule).
REFUSALS = (ValueError, TypeError, RuntimeError, MisconfigurationException)


class _NothingWritten(LitzooCLI):
    """The CLI without a run folder; a bad option raises instead of printing usage and exiting."""

    def init_parser(self, **kwargs):
        return super().init_parser(**kwargs, exit_on_error=False)

    def before_instantiate_classes(self) -> None:
        """No run folder: nothing is trained."""


class _ParseOnly(_NothingWritten):
    """The CLI up to and including parsing."""

    def instantiate_classes(self) -> None:
        """No model, data or trainer: only the config is wanted."""


class _BuildOnly(_NothingWritten):
    """The CLI up to building the datamodule, the task (with its net) and the optimizer, as ``fit`` would."""

    def before_instantiate_classes(self) -> None:
        """The trainer options ``fit`` refuses, and the chunked clipping the task is built with."""
        problem = trainer_option_problem(self.config.trainer, "fit")
        if problem is not None:
            raise ValueError(problem)
        clip_chunks_like_the_trainer(self.config)

    def instantiate_classes(self) -> None:
        super().instantiate_classes()
        optimizer = self.config.model.init_args.get("optimizer")
        try:
            self.model.optimizer_factory(self.model.parameters())
        except REFUSALS as error:
            name = getattr(optimizer, "class_path", None) or "the optimizer"
            raise ValueError(f"{name} refuses it: {error}") from error

    def instantiate_trainer(self, **kwargs) -> None:
        """No trainer: it holds no value of the task's or the optimizer's, and its loggers would write."""


def parse_fit_config(args: list[str]) -> Namespace:
    """The ``fit`` config that ``litzoo fit *args`` would train (before run folders are assigned).

    Raises:
        ValueError: the command line is not valid, with the parser's reason.
    """
    try:
        return cli_main(list(args), run=False, cli_class=_ParseOnly).config
    except ArgumentError as error:
        raise ValueError(f"litzoo fit {' '.join(args)}: {short_parse_error(str(error))}") from error


def build_fit_config(args: list[str]) -> None:
    """Parse ``litzoo fit *args`` and build its datamodule, task and optimizer, then drop them.

    Raises:
        ValueError: the command line is not valid (the parser's reason), or a class refuses a value
            (its own message, e.g. "torch.optim.Adam refuses it: Invalid learning rate: -1.0").
    """
    try:
        cli_main(list(args), run=False, cli_class=_BuildOnly)
    except ArgumentError as error:
        raise ValueError(f"litzoo fit {' '.join(args)}: {short_parse_error(str(error))}") from error
    except REFUSALS as error:
        cause = root_cause(error)
        raise ValueError(" ".join(str(cause).split())) from error
