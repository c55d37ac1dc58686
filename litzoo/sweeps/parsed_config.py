"""Read a command line exactly as ``litzoo fit`` would, without building, seeding or writing anything.

A sweep checks its search space against the config its trials will train, and learns the task's
metric and the experiment's folder, before it creates a study or a run folder. The parse is the
CLI's own (same parser, defaults, configs and overrides), through LightningCLI's ``run=False`` and
its documented hooks: the two that build the run do nothing here.
"""

from __future__ import annotations

from jsonargparse import ArgumentError, Namespace

from litzoo.cli.lightning_cli import LitzooCLI, cli_main
from litzoo.cli.parse_errors import short_parse_error


class _ParseOnly(LitzooCLI):
    """The CLI up to and including parsing; a bad option raises instead of printing usage and exiting."""

    def init_parser(self, **kwargs):
        return super().init_parser(**kwargs, exit_on_error=False)

    def before_instantiate_classes(self) -> None:
        """No run folder: nothing is trained."""

    def instantiate_classes(self) -> None:
        """No model, data or trainer: only the config is wanted."""


def parse_fit_config(args: list[str]) -> Namespace:
    """The ``fit`` config that ``litzoo fit *args`` would train (before run folders are assigned).

    Raises:
        ValueError: the command line is not valid, with the parser's reason.
    """
    try:
        return cli_main(list(args), run=False, cli_class=_ParseOnly).config
    except ArgumentError as error:
        raise ValueError(f"litzoo fit {' '.join(args)}: {short_parse_error(str(error))}") from error
