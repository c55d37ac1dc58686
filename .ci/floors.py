"""Print ``name==floor`` for every dependency in pyproject.toml, from its ``>=`` lower bound.

CI installs the project with these lines as pip constraints (``pip install -e ".[dev]" -c FILE``),
so every lower bound in pyproject.toml is installed and tested at once, and no floor is typed
twice. Covers ``[project] dependencies`` and every ``[project.optional-dependencies]`` group.
Extras are dropped (pip refuses them in constraints); environment markers are kept.

Usage: python3 .ci/floors.py [PYPROJECT]   (default: the pyproject.toml next to .ci/)
Standard library only (tomllib: Python 3.11+), so it runs before any virtualenv exists.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import tomllib

#: ``name[extras] specifiers ; marker`` of a PEP 508 requirement (no URL requirements).
REQUIREMENT = re.compile(
    r"^\s*(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)\s*(?:\[[^\]]*\])?\s*(?P<specs>[^;]*?)\s*(?:;(?P<marker>.*))?$"
)


def requirements(pyproject: dict) -> list[str]:
    """The runtime dependencies, then those of every optional group, less the project's own extras
    (``litzoo[export]`` in ``dev``: its packages are pinned from their own group)."""
    project = pyproject.get("project", {})
    groups = project.get("optional-dependencies", {}).values()
    own = re.compile(rf"^\s*{re.escape(project.get('name', ''))}\s*\[")
    everything = [*project.get("dependencies", []), *(req for group in groups for req in group)]
    return [req for req in everything if not own.match(req)]


def floor_pin(requirement: str, source: Path) -> str:
    """``name==version`` from the requirement's ``>=version``, its marker kept; ValueError without one."""
    match = REQUIREMENT.match(requirement)
    specs = [spec.strip() for spec in match["specs"].split(",")] if match else []
    floors = [spec.removeprefix(">=").strip() for spec in specs if spec.startswith(">=")]
    if match is None or len(floors) != 1:
        raise ValueError(
            f"{source}: the dependency {requirement!r} has no single '>=' lower bound, so CI cannot "
            "install and test its oldest supported release. Give it one, e.g. 'name>=1.2.0,<2', "
            "set to the oldest release the tests pass with."
        )
    marker = f"; {match['marker'].strip()}" if match["marker"] else ""
    return f"{match['name']}=={floors[0]}{marker}"


def main(argv: list[str]) -> int:
    source = Path(argv[0]) if argv else Path(__file__).resolve().parent.parent / "pyproject.toml"
    try:
        pins = [floor_pin(req, source) for req in requirements(tomllib.loads(source.read_text()))]
    except (OSError, tomllib.TOMLDecodeError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print("\n".join(pins))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
