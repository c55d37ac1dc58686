"""Each ``--config`` file is read once up front, so a broken one is named in the error.

jsonargparse reports a YAML syntax error as ``Problems parsing config: ... in "<unicode string>"``,
an empty file as ``Unexpected config:`` and a file that is not UTF-8 as a bare ``UnicodeDecodeError``,
none of which says which of several ``--config`` files is at fault.

Every YAML text jsonargparse reads (config files, a sub-config file given to an option such as
``--data my_data.yaml``, a value on the command line) is bounded in size, and in how far its aliases
expand: a "billion laughs" file of nine nested anchors loads in a millisecond as shared lists, but
jsonargparse walks each of its 490 million values (minutes at 100% CPU, gigabytes of memory).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import Path

import yaml
from jsonargparse import get_loader, set_loader

CONFIG_OPTIONS = ("--config", "-c")
#: Largest YAML text read, in bytes (litzoo's configs are 1 to 3 kB).
MAX_YAML_BYTES = 1_000_000
#: Most values (mappings, lists, keys and scalars) a YAML text may hold once its aliases are written
#: out; litzoo's largest config holds about 150.
MAX_YAML_VALUES = 100_000
#: PyYAML's safe loader, its C version where installed (as jsonargparse's own loader).
SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
#: jsonargparse's YAML loader, which :func:`bounded_yaml_load` calls once a text passes its bounds.
JSONARGPARSE_YAML_LOAD: Callable[[str], object] = get_loader("yaml")


class YamlTooLargeError(TypeError):
    """A YAML text too large to read, or whose aliases expand too far; its message is the paragraph.

    A ``TypeError``, jsonargparse's exception for a value the parser refuses: it reports it as a config
    error (exit code 2). A ``yaml.YAMLError`` would be lost where jsonargparse tries a value as a
    file path first (``--data my_data.yaml``) and drops loader errors to try it as a class name.
    """


def config_paths(args: Sequence[str]) -> list[str]:
    """The files given to ``--config``/``-c`` in a command line (``--config X`` or ``--config=X``)."""
    paths = []
    for i, arg in enumerate(args):
        if arg in CONFIG_OPTIONS and i + 1 < len(args):
            paths.append(args[i + 1])
        elif arg.startswith("--config="):
            paths.append(arg.split("=", 1)[1])
    return paths


def config_file_problem(path: str, fix: str | None = None) -> str | None:
    """What makes the config file at ``path`` unreadable as a YAML mapping, or None if it is fine.

    A ``--config`` value that is not a file (jsonargparse also accepts an inline YAML string) is left
    to jsonargparse. ``fix``: the advice that ends the paragraph, for a file the user did not name
    (by default, how to mend a ``--config`` file or leave it out).
    """
    file = Path(path)
    try:
        if not file.is_file():
            return None
    except OSError:  # an inline YAML string longer than a file name may be
        return None

    def ending(default: str = "Fix the file, or leave it out of the command.") -> str:
        return fix or default

    size = file.stat().st_size
    if size > MAX_YAML_BYTES:
        return (
            f"Config file {path} is too large to be a config: {size:,} bytes, more than the "
            f"{MAX_YAML_BYTES:,} a config may have (litzoo's hold a few kB). "
            + ending("Give the config file itself, or leave it out of the command.")
        )
    try:
        text = file.read_bytes().decode("utf-8")
    except UnicodeDecodeError as error:
        line = file.read_bytes()[: error.start].count(b"\n") + 1
        return (
            f"Config file {path} is not UTF-8 text: byte {error.object[error.start]:#04x} on line {line} cannot "
            f"be decoded (saved in another encoding, e.g. Latin-1, or not a text file). Save it as UTF-8. {ending()}"
        )
    problem = yaml_size_problem(text)
    if problem is not None:
        return f"Config file {path} {problem}. {ending()}"
    try:
        content = yaml.safe_load(text)
    except yaml.YAMLError as error:
        where = getattr(error, "problem_mark", None)
        at = f" at line {where.line + 1}, column {where.column + 1}" if where is not None else ""
        problem = getattr(error, "problem", None) or str(error).splitlines()[0]
        return f"Config file {path} is not valid YAML{at}: {problem}. {ending()}"
    if content is None:
        return f"Config file {path} is empty (or only comments): it sets nothing. " + ending(
            "Give it the settings it should hold (see configs/ for examples), or leave it out of the command."
        )
    if not isinstance(content, dict):
        return (
            f"Config file {path} holds a YAML {type(content).__name__}, not a mapping of options "
            f"(trainer:, model:, data: ...). {ending()}"
        )
    return None


def yaml_size_problem(text: str) -> str | None:
    """Why ``text`` is too large to read as YAML (the end of a sentence naming it), or None.

    Counted on the composed node graph, where an alias is the node its anchor marks: the count is
    the size of the values once written out, found without writing them out. Text that is not valid
    YAML passes, for the loader to report.
    """
    if len(text) > MAX_YAML_BYTES:
        return f"is too large: {len(text):,} characters, more than the {MAX_YAML_BYTES:,} a config may have"
    try:
        root = yaml.compose(text, Loader=SAFE_LOADER)
    except yaml.YAMLError:
        return None
    except RecursionError:
        return "nests its values too deeply to be read (thousands of levels)"
    if root is None:
        return None
    sizes = expanded_size(root)
    if sizes is None:
        return (
            "expands without end: a YAML alias (*name) sits inside the value its own anchor (&name) marks, "
            "so that value would contain itself"
        )
    size, written = sizes
    if size <= MAX_YAML_VALUES:
        return None
    if size > written:
        return (
            f"expands too far: its YAML aliases (*name, each repeating the value an &name anchor marks) "
            f"turn its {written:,} written values into {size:,}, more than the {MAX_YAML_VALUES:,} a config "
            "may hold (reading them would take minutes and gigabytes of memory)"
        )
    return f"is too large: it holds {size:,} values, more than the {MAX_YAML_VALUES:,} a config may hold"


def expanded_size(root: yaml.Node) -> tuple[int, int] | None:
    """How many nodes the graph under ``root`` has as a tree (each alias written out), and as written.

    None for a cycle. Each node is visited once (an iterative depth-first walk, so deep nesting needs
    no recursion); a node met again while it is still being walked is an alias inside its own anchor.
    """
    sizes: dict[int, int] = {}
    walking: set[int] = set()
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, children_done = stack.pop()
        children = _children(node)
        if children_done:
            walking.discard(id(node))
            sizes[id(node)] = 1 + sum(sizes[id(child)] for child in children)
        elif id(node) in walking:
            return None
        elif id(node) not in sizes:
            walking.add(id(node))
            stack.append((node, True))
            stack.extend((child, False) for child in children)
    return sizes[id(root)], len(sizes)


def _children(node: yaml.Node) -> list[yaml.Node]:
    """A list's items, a mapping's keys and values, no children for a scalar."""
    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair]
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    return []


def bounded_yaml_load(stream: str, path: str | os.PathLike = "") -> object:
    """jsonargparse's YAML loader, after :func:`yaml_size_problem`; ``path`` names a config file read."""
    problem = yaml_size_problem(stream) if isinstance(stream, str) else None
    if problem is not None:
        where = (
            f"Config file {path}"
            if path
            else "A YAML value (given on the command line or in a file it names)"
        )
        raise YamlTooLargeError(f"{where} {problem}. Fix it, or leave it out of the command.")
    return JSONARGPARSE_YAML_LOAD(stream)


def bound_yaml_loading() -> None:
    """Make jsonargparse read every YAML text through :func:`bounded_yaml_load`.

    ``--config`` files are checked before parsing (:func:`config_file_problem`), but jsonargparse
    also loads YAML from an inline ``--config`` string, a file given to a class option (``--data
    my_data.yaml``), the defaults config and option values; its public ``set_loader`` reaches them all.
    """
    if get_loader("yaml") is not bounded_yaml_load:
        set_loader("yaml", bounded_yaml_load, (yaml.YAMLError,))
