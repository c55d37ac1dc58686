"""Search spaces for ``litzoo sweep``: a YAML file mapping CLI options to Optuna distributions.

::

    model.init_args.optimizer.init_args.lr: {type: float, low: 1.0e-4, high: 1.0e-1, log: true}
    data.init_args.batch_size: {type: int, low: 32, high: 256, step: 32}
    model.init_args.net.init_args.hidden_sizes: {type: categorical, choices: [[64, 64], [128, 128]]}

Keys are spelled as ``litzoo fit --print_config`` prints them; a trial passes the values it drew
to the CLI as ``--<key>=<value>`` overrides. Optuna stores categorical choices only as scalars, so
choices that include a list or a mapping are drawn as their YAML text (``"[64, 64]"``), which is
also exactly what the command line gets.
"""

from __future__ import annotations

import difflib
import itertools
import json
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import optuna
import yaml
from jsonargparse import ArgumentError, Namespace
from optuna.distributions import BaseDistribution, CategoricalDistribution, FloatDistribution, IntDistribution

#: What each ``type`` takes: (required fields, optional fields).
FIELDS = {
    "float": (("low", "high"), ("log", "step")),
    "int": (("low", "high"), ("log", "step")),
    "categorical": (("choices",), ()),
}
SCALARS = (bool, int, float, str, type(None))
EXAMPLES = (
    "{type: float, low: 1.0e-4, high: 1.0e-1, log: true}, {type: int, low: 32, high: 256, step: 32} "
    "or {type: categorical, choices: [[64, 64], [128, 128]]}"
)


@dataclass(frozen=True)
class Parameter:
    """One searched CLI option and the distribution Optuna draws it from.

    ``encoded``: the choices are YAML texts (some choice was a list or a mapping).
    """

    key: str
    distribution: BaseDistribution
    encoded: bool = False

    def suggest(self, trial: optuna.Trial) -> Any:
        """Draw this trial's value (returns the stored value for a trial that is retried)."""
        d = self.distribution
        if isinstance(d, FloatDistribution):
            return trial.suggest_float(self.key, d.low, d.high, log=d.log, step=d.step)
        if isinstance(d, IntDistribution):
            return trial.suggest_int(self.key, d.low, d.high, log=d.log, step=d.step)
        return trial.suggest_categorical(self.key, d.choices)

    def corners(self) -> list[Any]:
        """The values that must all suit the config: both bounds, or every choice."""
        d = self.distribution
        return list(d.choices) if isinstance(d, CategoricalDistribution) else [d.low, d.high]

    def text(self, value: Any) -> str:
        """``value`` as the command line (and YAML) reads it."""
        return value if self.encoded else json.dumps(value)

    def override(self, value: Any) -> str:
        """The CLI option that gives ``value`` to a run."""
        return f"--{self.key}={self.text(value)}"


def load_space(path: Path) -> list[Parameter]:
    """Read and check a space file; any problem raises one paragraph naming the file (and the key)."""
    if not path.is_file():
        raise FileNotFoundError(
            f"--space {path}: no such file. Give a search-space YAML such as configs/search/lenet5.yaml."
        )
    try:
        entries = yaml.safe_load(path.read_text())
    except yaml.YAMLError as error:
        raise ValueError(f"--space {path} is not valid YAML: {' '.join(str(error).split())}") from error
    if not entries:
        raise ValueError(
            f"--space {path} defines no parameter, so there is nothing to search. Map at least one CLI "
            f"option to a distribution, e.g. model.init_args.optimizer.init_args.lr: {EXAMPLES.split(', ')[0]}."
        )
    if not isinstance(entries, Mapping):
        raise ValueError(
            f"--space {path} must map CLI options to distributions ({EXAMPLES}); it holds a "
            f"{type(entries).__name__}."
        )
    return [parse_parameter(str(key), spec, path) for key, spec in entries.items()]


def parse_parameter(key: str, spec: Any, path: Path) -> Parameter:
    """One ``key: {type: ..., ...}`` entry, checked as far as Optuna checks distributions and further."""
    try:
        return Parameter(key, *_distribution(spec))
    except ValueError as error:
        raise ValueError(f"--space {path}: {key}: {error} Write distributions like {EXAMPLES}.") from None


def _distribution(spec: Any) -> tuple[BaseDistribution, bool]:
    if not isinstance(spec, Mapping):
        raise ValueError(f"the distribution must be a mapping, got {spec!r}.")
    kind = spec.get("type")
    if kind not in FIELDS:
        raise ValueError(f"type must be float, int or categorical, got {kind!r}.")
    required, optional = FIELDS[kind]
    missing = [name for name in required if name not in spec]
    unknown = sorted(set(spec) - {"type", *required, *optional})
    if missing or unknown:
        problems = [f"{', '.join(missing)} missing"] * bool(missing) + [
            f"{', '.join(unknown)} unknown"
        ] * bool(unknown)
        raise ValueError(
            f"a {kind} distribution takes {', '.join(required + optional)} ({'; '.join(problems)})."
        )
    if kind == "categorical":
        return _categorical(spec["choices"])
    for name in ("low", "high", "step"):
        value = spec.get(name)
        if value is not None and not _is_number(value, integer=kind == "int"):
            raise ValueError(
                f"{name} must be {'an integer' if kind == 'int' else 'a number'}, got {value!r}."
            )
    if not isinstance(spec.get("log", False), bool):
        raise ValueError(f"log must be true or false, got {spec['log']!r}.")
    low, high, log, step = spec["low"], spec["high"], spec.get("log", False), spec.get("step")
    if low >= high:
        raise ValueError(f"low ({low}) must be below high ({high}).")
    distribution = FloatDistribution if kind == "float" else IntDistribution
    try:  # Optuna's own checks: log needs low > 0, log and step exclude each other...
        return distribution(low, high, log=log, step=step if kind == "float" else step or 1), False
    except ValueError as error:
        raise ValueError(" ".join(str(error).split())) from None


def _categorical(choices: Any) -> tuple[CategoricalDistribution, bool]:
    if not isinstance(choices, list) or not choices:
        raise ValueError(f"choices must be a non-empty list, got {choices!r}.")
    texts = [json.dumps(choice) for choice in choices]
    if len(set(texts)) < len(texts):
        raise ValueError(f"choices must differ, got {choices!r}.")
    encoded = not all(isinstance(choice, SCALARS) for choice in choices)
    return CategoricalDistribution(texts if encoded else choices), encoded


def _is_number(value: Any, integer: bool) -> bool:
    if isinstance(value, bool):
        return False
    if integer:
        return isinstance(value, int)
    return isinstance(value, int | float) and math.isfinite(value)


def check_keys(space: Sequence[Parameter], path: Path, config: Namespace, configs: str) -> None:
    """Every searched option must be an option of the config the trials train."""
    for parameter in space:
        if parameter.key in config:
            continue
        options = [str(key) for key in config.keys()]  # noqa: SIM118  (a Namespace does not iterate keys)
        close = difflib.get_close_matches(parameter.key, options, n=3, cutoff=0.6)
        hint = f" Closest options: {', '.join(close)}." if close else ""
        raise ValueError(
            f"--space {path}: {parameter.key} is not an option of {configs}, so no trial could set it. "
            f"Spell keys as `litzoo fit {configs} --print_config` prints them.{hint}"
        )


def check_values(space: Sequence[Parameter], path: Path, build: Callable[[list[str]], object]) -> None:
    """The config must accept every bound and every choice; ``build`` parses extra CLI options and builds
    what a trial builds first (data, task, optimizer), raising ValueError for a value refused on the way.

    One build per corner (all options at their low bounds, all at their high bounds / i-th
    choices); only when one fails are the options built one by one to name the culprit. A value
    that only a class refuses (a negative learning rate, which is a float) is found here, before the
    first trial, instead of ending the sweep in the trial that draws it.
    """
    for index in range(max(len(p.corners()) for p in space)):
        overrides = [p.override(p.corners()[min(index, len(p.corners()) - 1)]) for p in space]
        try:
            build(overrides)
        except ValueError as combined:
            for parameter in space:
                for value in parameter.corners():
                    try:
                        build([parameter.override(value)])
                    except ValueError as error:
                        raise ValueError(
                            f"--space {path}: {parameter.key}: the config rejects the value {parameter.text(value)} "
                            f"of this distribution ({parser_reason(error)}). Give a distribution whose every "
                            "value the option accepts."
                        ) from None
            raise ValueError(
                f"--space {path}: the config accepts each value alone but not {' '.join(overrides)} together "
                f"({parser_reason(combined)}). Narrow the distributions."
            ) from None


def parser_reason(error: ValueError) -> str:
    """What is wrong, in one line: a parser error's line that says so (jsonargparse's message nests every
    union member), or the message of a class that refused a value."""
    cause = error.__cause__ if isinstance(error.__cause__, ArgumentError) else error
    lines = [line.strip() for line in str(cause).splitlines() if line.strip()]
    for before, line in itertools.pairwise(lines):
        if before.startswith("Parser key") and line.startswith("Expected"):
            return f"{before} {line}"
    return " ".join(lines)
