"""litzoo.startup: the command imports its CLI with the collector paused and freezes what the import made."""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import REPO_ROOT

PROBE = """
import gc, sys
from litzoo.startup import import_the_cli
main = import_the_cli()
print(gc.isenabled(), gc.get_freeze_count() > 100_000, main.__module__, end=" ")
gc.unfreeze()
sys.modules["litzoo.cli.lightning_cli"] = None  # the next import fails
try:
    import_the_cli()
except ImportError:
    print(gc.isenabled())
"""


def test_the_cli_import_is_frozen_and_the_collector_runs_again_even_after_a_failed_import():
    result = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=REPO_ROOT, capture_output=True, text=True, check=True, timeout=600
    )
    assert result.stdout.split() == ["True", "True", "litzoo.cli.commands", "True"]
