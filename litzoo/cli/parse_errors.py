"""A bad option or config value ends the command with one paragraph, not jsonargparse's page.

jsonargparse reports a mistyped option (``--data.init_args.batch_sise 3``) as the subcommand's whole
usage (about 90 lines of ``[--trainer.X X]``) followed by its nested union report ("Does not validate
against any of the Union subtypes ... Expected a <class 'NoneType'> ... Given value type: ..."),
in which the cause is one line. :class:`LitzooArgumentParser` prints instead the option as the user
writes it, the cause and the fix: for an option the class does not take, the closest one it does
and the command that lists them all; for a class path that does not resolve, the closest class.
Anything it cannot read keeps jsonargparse's own words, without the usage and the union noise.
"""

from __future__ import annotations

import difflib
import importlib
import inspect
import os
import re
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import NoReturn

from lightning.pytorch.cli import LightningArgumentParser

from litzoo.cli.config_files import CONFIG_OPTIONS, YamlTooLargeError, bound_yaml_loading
from litzoo.compat import option_strings, parser_that_failed

PARSER_KEY = re.compile(r'^Parser key "([^"]+)":')
CLASS_PATH = re.compile(r"^(?:- )?Problem with given class_path '([\w.]+)':")
NOT_ACCEPTED = re.compile(r"Option '([\w.]+)' is not accepted")
CALLABLE_CLASS = re.compile(r"class_path='([\w.]+)'")
NO_ATTRIBUTE = re.compile(r"module '([\w.]+)' has no attribute '(\w+)'")
EXPECTED = re.compile(r"^- Expected a (.+)$")
TYPE_NAME = re.compile(r"^<class '(?:[\w.]+\.)?(\w+)'>$")
LITERAL = re.compile(r"^typing\.Literal\[(.*)\]$")
GIVEN_VALUE = re.compile(r"^Given value: (.*)")
EXPECTED_GOT = re.compile(r"^(?:- )?Expected a (.+?)\. Got value: (.*)$")
UNRECOGNIZED = re.compile(r"^unrecognized arguments: --([\w.]+)")
NOT_AN_OPTION = re.compile(r"does not accept option '([\w.]+)'")
REQUIRED = re.compile(r"^the following arguments are required: (.+)$")
CONFIG_FILE = re.compile(r"""^Parser key "config": (File does not exist|Path is not a file): '(.+)'$""")
#: Where a clone keeps the experiment configs (looked in for a mistyped ``--config`` path).
CONFIGS_FOLDER = "configs"
#: jsonargparse's lines that describe its own type machinery, not the user's mistake.
NOISE = re.compile(
    r"^(Does not validate against any of the Union subtypes|Subtypes: |Errors:|Given value type: |"
    r"- Expected a <class 'NoneType'>|- Expected a path but )"
)


class LitzooArgumentParser(LightningArgumentParser):
    """LightningCLI's parser whose exit on a bad option prints :func:`short_parse_error`'s paragraph.

    It reads the ``--config`` files of a command line before its other options
    (:func:`configs_first`), and YAML within bounds (:func:`~litzoo.cli.config_files.bound_yaml_loading`).
    """

    def __init__(self, *args, **kwargs) -> None:
        bound_yaml_loading()
        super().__init__(*args, **kwargs)
        self.dispatches_subcommands = False

    def add_subcommands(self, *args, **kwargs):
        """jsonargparse's; a parser with subcommands leaves the order of options to each subcommand's parser."""
        self.dispatches_subcommands = True
        return super().add_subcommands(*args, **kwargs)

    def parse_args(self, args: Sequence[str] | None = None, *rest, **kwargs):
        """jsonargparse's, with the ``--config`` files first (:func:`configs_first`).

        A subcommand's parser is called with the arguments after the subcommand's name.
        """
        if not self.dispatches_subcommands:
            args = configs_first(sys.argv[1:] if args is None else args)
        return super().parse_args(args, *rest, **kwargs)

    def add_function_arguments(self, function, *args, linked_targets: object = None, **kwargs):
        """jsonargparse's, for a net given as a builder function (``torchvision.models.resnet18``).

        jsonargparse (up to 4.53 at least) passes the parser of a class path the targets of the links
        into it (``linked_targets``), which ``add_class_arguments`` takes and ``add_function_arguments``
        refuses ("got an unexpected keyword argument 'linked_targets'"): every link of the CLI into
        the net would make a builder function unusable as a net. A builder's data-decided argument
        (``num_classes``) has a default, so it needs no mark as linked; the links still apply.
        ``tests/test_torchvision_net.py`` trains resnet18 through the CLI.
        """
        return super().add_function_arguments(function, *args, **kwargs)

    def error(self, message: str, ex: Exception | None = None) -> NoReturn:
        parser = parser_that_failed(self, ex)
        too_large = _yaml_too_large(ex)
        if too_large is not None:
            message = str(too_large)
        if not self.exit_on_error:  # a caller that handles the error (the sweep's parse) gets it whole
            super().error(message, ex)
        prog = parser.prog.replace(" [options]", "")
        sys.stderr.write(f"error: {short_parse_error(message, prog, option_strings(parser))}\n")
        self.exit(2)


def _yaml_too_large(error: BaseException | None) -> YamlTooLargeError | None:
    """The refusal of an oversized YAML text inside jsonargparse's wrapping of ``error``, if any."""
    while error is not None and not isinstance(error, YamlTooLargeError):
        error = error.__cause__ or error.__context__
    return error


def configs_first(args: Sequence[str]) -> list[str]:
    """``args`` with each ``--config FILE`` (``-c FILE``, ``--config=FILE``) moved before the other
    options, the files in their own order, the options in theirs.

    jsonargparse applies arguments in order. An option before the config that picks the class it
    belongs to fails (``--data.init_args.data_dir x --config configs/mnist/simple_cnn.yaml``:
    "LightningDataModule has no option 'data_dir'"), and one the config also sets is silently
    overridden by it (``--trainer.max_epochs 3 --config ...`` trained the config's epochs). Read
    first, config files are what the command line changes, wherever an option stands on it.
    """
    configs: list[str] = []
    options: list[str] = []
    index = 0
    while index < len(args):
        arg = args[index]
        if arg in CONFIG_OPTIONS and index + 1 < len(args):
            configs += args[index : index + 2]
            index += 2
            continue
        (configs if arg.startswith("--config=") else options).append(arg)
        index += 1
    return configs + options


def short_parse_error(message: str, prog: str = "litzoo fit", options: Sequence[str] = ()) -> str:
    """One paragraph for jsonargparse's error ``message``.

    ``prog`` is the command (``litzoo fit``), ``options`` the option strings it takes (for "did you mean").
    """
    if match := CONFIG_FILE.match(message.strip()):
        return _config_not_a_file(Path(match.group(2)), missing=match.group(1).startswith("File"))
    if match := REQUIRED.match(message.strip()):
        names = match.group(1).split(", ")
        missing = ", ".join("--" + name.split(".", 1)[-1] for name in names)
        subcommand = names[0].split(".", 1)[0] if "." in names[0] else ""
        command = prog if not subcommand or prog.endswith(f" {subcommand}") else f"{prog} {subcommand}"
        return (
            f"{command} needs {missing}: give an experiment config, e.g. {command} --config "
            f"{CONFIGS_FOLDER}/regression/mlp.yaml (all of them are in {CONFIGS_FOLDER}/), or the options themselves."
        )
    if match := UNRECOGNIZED.match(message) or NOT_AN_OPTION.search(message):
        return _no_such_option(match.group(1), prog, options, from_file=match.re is NOT_AN_OPTION)
    keys: list[tuple[int, str]] = []  # (indent, key) of the "Parser key" lines enclosing a line
    classes: list[tuple[int, str]] = []  # (indent, class path) likewise
    for line in message.splitlines():
        indent, text = len(line) - len(line.lstrip()), line.strip()
        if not text:
            continue
        keys = [(i, k) for i, k in keys if i < indent]
        classes = [(i, c) for i, c in classes if i < indent]
        if match := PARSER_KEY.match(text):
            keys.append((indent, match.group(1)))
        elif match := CLASS_PATH.match(text):
            classes.append((indent, match.group(1)))
        elif match := NOT_ACCEPTED.search(text):
            inline = CALLABLE_CLASS.search(text)  # an optimizer's or scheduler's class, on this line
            class_path = inline.group(1) if inline else (classes[-1][1] if classes else None)
            if class_path is not None:
                return _unknown_option(_option([k for _, k in keys]), class_path, match.group(1), prog)
        elif match := EXPECTED_GOT.match(text):
            return f"{_option([k for _, k in keys])}: expected {_type_words(match.group(1))}, got {match.group(2)}."
        elif match := NO_ATTRIBUTE.search(text):
            return _unknown_class(_option([k for _, k in keys]), match.group(1), match.group(2))
    return _condensed(message, prog)


def _config_not_a_file(path: Path, missing: bool) -> str:
    """A ``--config`` that names no file: say which path was looked for, and the closest config there is."""
    relative = os.path.relpath(path)
    wanted = relative if not relative.startswith("..") else str(path)  # as the user typed it, mostly
    if not missing:
        return f"--config {wanted} is a folder, not a config file. Give one of the YAML files in it."
    configs = [str(p) for p in Path(CONFIGS_FOLDER).rglob("*.yaml")] if Path(CONFIGS_FOLDER).is_dir() else []
    close = difflib.get_close_matches(wanted, configs, n=1, cutoff=0.8)
    hint = (
        f" Did you mean {close[0]}?"
        if close
        else f" The experiment configs are in {CONFIGS_FOLDER}/ of a clone."
    )
    return f"--config {wanted}: no such file (looked for {path}).{hint}"


def _no_such_option(name: str, prog: str, options: Sequence[str], from_file: bool) -> str:
    close = difflib.get_close_matches(f"--{name}", options, n=1)
    where = " (in a config file)" if from_file else ""
    hint = f" Did you mean {close[0]}?" if close else ""
    return f"--{name}{where}: there is no such option.{hint} All options: {prog} --help"


def _option(keys: list[str]) -> str:
    """``["model", "net"]`` -> ``--model.init_args.net``: the nested keys as a command-line option."""
    return "--" + ".init_args.".join(keys)


def _unknown_option(option: str, class_path: str, name: str, prog: str) -> str:
    accepted = _parameters(class_path)
    close = difflib.get_close_matches(name, accepted, n=1)
    hint = f" Did you mean {option}.init_args.{close[0]}?" if close else ""
    return (
        f"{option}.init_args.{name}: {class_path} has no option '{name}'.{hint} Its options: "
        f"{', '.join(accepted) or 'none'} (described by: {prog} {option}.help {class_path})."
    )


def _unknown_class(option: str, module_name: str, name: str) -> str:
    try:
        module = importlib.import_module(module_name)
    except ImportError:
        candidates: list[str] = []
    else:
        candidates = [
            n for n, value in vars(module).items() if inspect.isclass(value) and not n.startswith("_")
        ]
    close = difflib.get_close_matches(name, candidates, n=1)
    if close:
        hint = f" Did you mean {module_name}.{close[0]}?"
    else:
        hint = f" Classes there: {', '.join(sorted(candidates))}." if candidates else ""
    return f"{option}: there is no class {module_name}.{name} (module {module_name} has no '{name}').{hint}"


def _parameters(class_path: str) -> list[str]:
    """The keyword arguments ``class_path``'s constructor takes (an optimizer's without ``params``)."""
    module_name, _, name = class_path.rpartition(".")
    try:
        cls = getattr(importlib.import_module(module_name), name)
        parameters = inspect.signature(cls).parameters.values()
    except (ImportError, AttributeError, TypeError, ValueError):
        return []
    kinds = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
    return [p.name for p in parameters if p.kind in kinds and p.name != "params"]


def _condensed(message: str, prog: str) -> str:
    """jsonargparse's own lines minus its type machinery, as one paragraph, with where options are listed."""
    lines = [line.strip() for line in message.splitlines()]
    keys = [match.group(1) for line in lines if (match := PARSER_KEY.match(line))]
    expected = [_type_words(match.group(1)) for line in lines if (match := EXPECTED.match(line))]
    expected = [words for words in expected if words != "NoneType"] or expected
    given = [match.group(1) for line in lines if (match := GIVEN_VALUE.match(line))]
    if expected and all(words.startswith("one of ") for words in expected):
        expected = ["one of " + ", ".join(words.removeprefix("one of ") for words in expected)]
    if len(keys) == 1 and expected and given:  # a plain value of the wrong type
        return f"--{keys[0]}: expected {' or '.join(expected)}, got {given[0]!r}. All options: {prog} --help"
    kept = [line for line in lines if line and not NOISE.match(line)]
    if kept == [line for line in lines if line] and not message.startswith("unrecognized arguments"):
        return " ".join(kept)  # litzoo's own paragraph (a config-file or option problem), as written
    return f"{' '.join(kept)} (All options: {prog} --help)"


def _type_words(annotation: str) -> str:
    """``<class 'int'>`` -> ``int``; ``typing.Literal['a', 'b']`` -> ``one of 'a', 'b'``."""
    if match := TYPE_NAME.match(annotation):
        return match.group(1)
    if match := LITERAL.match(annotation):
        return f"one of {match.group(1)}"
    return annotation
