"""Each ``--config`` file is read once up front, so a broken one is named in the error.

jsonargparse reports a YAML syntax error as ``Problems parsing config: ... in "<unicode string>"``,
an empty file as ``Unexpected config:`` and a file that is not UTF-8 as a bare ``UnicodeDecodeError``,
none of which says which of several ``--config`` files is at fault.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import yaml

CONFIG_OPTIONS = ("--config", "-c")


def config_paths(args: Sequence[str]) -> list[str]:
    """The files given to ``--config``/``-c`` in a command line (``--config X`` or ``--config=X``)."""
    paths = []
    for i, arg in enumerate(args):
        if arg in CONFIG_OPTIONS and i + 1 < len(args):
            paths.append(args[i + 1])
        elif arg.startswith("--config="):
            paths.append(arg.split("=", 1)[1])
    return paths


def config_file_problem(path: str) -> str | None:
    """What makes the config file at ``path`` unreadable as a YAML mapping, or None if it is fine.

    A ``--config`` value that is not a file (jsonargparse also accepts an inline YAML string) is left
    to jsonargparse.
    """
    file = Path(path)
    if not file.is_file():
        return None
    fix = "Fix the file, or leave it out of the command."
    try:
        text = file.read_bytes().decode("utf-8")
    except UnicodeDecodeError as error:
        line = file.read_bytes()[: error.start].count(b"\n") + 1
        return (
            f"Config file {path} is not UTF-8 text: byte {error.object[error.start]:#04x} on line {line} cannot "
            f"be decoded (saved in another encoding, e.g. Latin-1, or not a text file). Save it as UTF-8. {fix}"
        )
    try:
        content = yaml.safe_load(text)
    except yaml.YAMLError as error:
        where = getattr(error, "problem_mark", None)
        at = f" at line {where.line + 1}, column {where.column + 1}" if where is not None else ""
        problem = getattr(error, "problem", None) or str(error).splitlines()[0]
        return f"Config file {path} is not valid YAML{at}: {problem}. {fix}"
    if content is None:
        return (
            f"Config file {path} is empty (or only comments): it sets nothing. Give it the settings it "
            "should hold (see configs/ for examples), or leave it out of the command."
        )
    if not isinstance(content, dict):
        return (
            f"Config file {path} holds a YAML {type(content).__name__}, not a mapping of options "
            f"(trainer:, model:, data: ...). {fix}"
        )
    return None
