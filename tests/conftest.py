"""Shared test helpers: run the CLI inside a temporary folder and read back what it wrote."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
CONFIGS = REPO_ROOT / "configs"

# Quiet, fast defaults for CLI runs in tests; each test adds its own arguments after these.
QUIET = ["--trainer.enable_progress_bar", "false", "--trainer.enable_model_summary", "false"]


@pytest.fixture
def in_tmp_dir(tmp_path: Path) -> Iterator[Path]:
    """Run the test with the working directory in a fresh temporary folder (lightning_logs/ goes there)."""
    old = Path.cwd()
    os.chdir(tmp_path)
    try:
        yield tmp_path
    finally:
        os.chdir(old)


def run_folders(root: Path) -> list[Path]:
    """Every ``version_N`` run folder under ``root``."""
    return sorted(p for p in root.rglob("version_*") if p.is_dir())
