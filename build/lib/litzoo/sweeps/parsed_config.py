"""Read a command line exactly as ``litzoo fit`` would, without building, seeding or writing anything.

A sweep checks its search space against the config its trials will train, and learns the task's
metric and the experiment's folder, before it creates a study or a run folder. The parse is the
CLI's own (same parser, defaults, configs and overrides); it stops right after parsing.
"""

from __future__ import annotations

from jsonargparse import ArgumentError, Namespace

from litzoo.cli.lightning_cli import LitzooCLI, cli_main
from litzoo.cli.parse_errors import short_parse_error


class _Parsed(Exception):
    """Carries the parsed config out of the CLI's constructor, which would go on to build the run."""

    def __init__(self, config: Namespace) -> None:
        super().__init__("parsed")
        self.config = config


class _ParseOnly(LitzooCLI):
    """The CLI, up to and including parsing; a bad option raises instead of printing usage and exiting."""

    def init_parser(self, **kwargs):
        return super().init_parser(**kwargs, exit_on_error=False)

    def parse_arguments(self, parser, args) -> None:
        super().parse_arguments(parser, args)
        raise _Parsed(self.config)


def parse_fit_config(args: list[str]) -> Namespace:
    """The ``fit`` config that ``litzoo fit *args`` would train (before run folders are assigned).

    Raises:
        ValueError: the command line is not valid, with the parser's reason.
    """
    try:
        cli_main(["fit", *args], cli_class=_ParseOnly)
    except _Parsed as parsed:
        return parsed.config.fit
    except ArgumentError as error:
        raise ValueError(f"litzoo fit {' '.join(args)}: {short_parse_error(str(error))}") from error
    raise AssertionError("the CLI returned without parsing")  # unreachable: parsing always raises
