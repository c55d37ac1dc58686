"""The project's shape: nets without Lightning, an installed ``litzoo`` command, no path hacks."""

from __future__ import annotations

import re
import subprocess
import sys
from importlib.metadata import entry_points
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
SHIPPED = ("litzoo", "models", "datamodules", "scripts")
ARCHITECTURE_PACKAGES = ("litzoo.models", "litzoo.models.cnn", "litzoo.models.rnn", "litzoo.models.mlp")


def test_every_architecture_imports_without_lightning() -> None:
    """The README promises plain nn.Modules: importing them must not pull in Lightning or torchmetrics."""
    code = (
        "import sys, inspect, torch.nn\n"
        f"mods = [__import__(m, fromlist=['_']) for m in {ARCHITECTURE_PACKAGES!r}]\n"
        "nets = [v for m in mods for v in vars(m).values() if inspect.isclass(v) and issubclass(v, torch.nn.Module)]\n"
        "assert nets, 'no architecture found'\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'lightning', 'pytorch_lightning', 'torchmetrics'}))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO_ROOT, timeout=600
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_litzoo_command_is_installed_and_runs_the_cli() -> None:
    (script,) = [e for e in entry_points(group="console_scripts") if e.name == "litzoo"]
    assert script.value == "litzoo.startup:main"
    result = subprocess.run(
        [sys.executable, "-m", "litzoo", "--help"], capture_output=True, text=True, timeout=600
    )
    assert result.returncode == 0, result.stderr
    listed = [line.split()[0] for line in result.stdout.splitlines() if line.startswith("  ")]
    assert listed == ["fit", "validate", "test", "predict", "sweep", "export"]
    for command in ("fit", "sweep", "export"):  # each one's own help answers
        own = subprocess.run(
            [sys.executable, "-m", "litzoo", command, "--help"], capture_output=True, text=True, timeout=600
        )
        assert own.returncode == 0 and "usage:" in own.stdout, (command, own.stderr)


def shipped_python_files() -> list[Path]:
    return [path for package in SHIPPED for path in (REPO_ROOT / package).rglob("*.py")]


@pytest.mark.parametrize(
    "pattern",
    [r"\bsys\.path\b", r"^\s*(from|import)\s+tests\b", r"spec_from_file_location"],
    ids=["sys.path", "imports tests", "loads files by path"],
)
def test_shipped_code_has_no_path_hacks(pattern: str) -> None:
    offenders = [
        f"{path.relative_to(REPO_ROOT)}:{number}"
        for path in shipped_python_files()
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if re.search(pattern, line)
    ]
    assert offenders == []
