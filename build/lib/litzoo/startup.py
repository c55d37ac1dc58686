"""The ``litzoo`` command's entry point: the CLI's imports, kept out of the garbage collector's work.

Importing the CLI (torch, Lightning, torchmetrics, torchvision, matplotlib through torchmetrics)
creates hundreds of thousands of objects that live as long as the process. Python's cyclic garbage
collector walks all of them in every full collection, during the imports and again while the
interpreter shuts down. So the imports run with the collector paused, and what they created is then
frozen (``gc.freeze``: moved to a permanent generation that collections skip), which is what the
standard library offers for long-lived start-up state. Objects made afterwards (the run's model,
data, loggers) are collected as usual. A one-epoch run of ``configs/regression/mlp.yaml`` took 2.4 s against 3.6 s with the CLI
imported plainly (``python scripts/benchmark.py --cases startup``, ``results/benchmark_sin.md``).

Only the command's own process is affected: importing :mod:`litzoo.cli.lightning_cli` from Python (a notebook,
the tests) leaves the caller's collector alone.
"""

from __future__ import annotations

import gc
from collections.abc import Callable


def import_the_cli() -> Callable[[], None]:
    """Import :mod:`litzoo.cli.lightning_cli` and :mod:`litzoo.cli.commands` with the collector paused and freeze what the import created; return its ``main``."""
    gc.disable()
    try:
        import litzoo.cli.lightning_cli  # noqa: F401  (the heavy imports: torch, Lightning, the zoo)
        from litzoo.cli.commands import main
    finally:
        gc.freeze()
        gc.enable()
    return main


def main() -> None:
    """The ``litzoo`` command (``python -m litzoo``, ``python scripts/train.py``): see :func:`litzoo.cli.commands.main`."""
    import_the_cli()()
