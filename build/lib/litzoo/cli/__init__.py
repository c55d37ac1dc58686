"""The command line: ``litzoo fit|validate|test|predict`` (LightningCLI, :mod:`.lightning_cli`), the
``litzoo`` dispatcher with ``sweep`` and ``export`` (:mod:`.commands`), and what a command says when
its input is bad (:mod:`.user_errors`, :mod:`.parse_errors`, :mod:`.config_files`)."""

from litzoo.cli.lightning_cli import LitzooCLI, cli_main

__all__ = ["LitzooCLI", "cli_main"]
