"""CI installs every dependency at its lower bound: ``.ci/floors.py`` must pin each one to its ``>=``."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

tomllib = pytest.importorskip(
    "tomllib", reason=".ci/floors.py reads pyproject.toml with tomllib (Python 3.11+)"
)

ROOT = Path(__file__).resolve().parent.parent
FLOORS = ROOT / ".ci" / "floors.py"


def floors(pyproject: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(FLOORS), str(pyproject)], capture_output=True, text=True, timeout=600
    )


def project_floors() -> tuple[dict, list[str]]:
    """pyproject.toml's [project] table and the pins .ci/floors.py prints for it."""
    result = floors(ROOT / "pyproject.toml")
    assert result.returncode == 0, result.stderr
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["project"], result.stdout.splitlines()


def test_every_dependency_is_pinned_at_its_lower_bound():
    project, pins = project_floors()
    groups = project["optional-dependencies"].values()
    declared = [*project["dependencies"], *(req for group in groups for req in group)]
    declared = [req for req in declared if not req.startswith(f"{project['name']}[")]  # its own extras
    assert len(pins) == len(declared), f"{declared} pinned as {pins}"
    for requirement, pin in zip(declared, pins, strict=True):
        name, floor = pin.split("==")
        assert "[" not in name, f"{pin}: pip refuses extras in a constraints file"
        assert requirement.startswith(name) and f">={floor}," in requirement.replace(" ", "") + ",", (
            f"{pin} is not the lower bound of {requirement!r}"
        )


def test_a_dependency_without_a_lower_bound_is_refused(tmp_path: Path):
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text('[project]\ndependencies = ["torch>=2.4.0,<3", "lightning<3"]\n')
    result = floors(pyproject)
    assert result.returncode != 0
    assert result.stdout == ""
    assert str(pyproject) in result.stderr and "'lightning<3'" in result.stderr


def test_readme_names_the_tested_runtime_floors():
    project, pins = project_floors()
    readme = " ".join((ROOT / "README.md").read_text().split())
    for pin in pins[: len(project["dependencies"])]:
        assert pin.replace("==", " ") in readme, f"README.md's install section does not name the floor {pin}"
