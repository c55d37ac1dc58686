"""litzoo: the classic architectures of the PyTorch tutorials as fast, tested Lightning training code.

This package holds what the ``litzoo`` command needs at run time: the CLI (:mod:`litzoo.cli.lightning_cli`), run
folders, callbacks, fault guards and the export and plotting tools. The architectures and task
modules live in :mod:`models`, the datamodules in :mod:`datamodules`.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("litzoo")
except PackageNotFoundError:  # imported from a clone that was never installed
    __version__ = "0+unknown"
