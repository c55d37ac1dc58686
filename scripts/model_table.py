"""Print the README's model table: every experiment config's architecture, data and parameter count.

Each net is built exactly as the CLI builds it, from the config's ``init_args`` plus the values the CLI
links from the datamodule (``litzoo.cli.lightning_cli.DATA_LINKS``: input shape and number of outputs), so the counts
are those of the trained models. Nothing is downloaded or trained.

    python scripts/model_table.py            # all of configs/ (trainer and data presets excluded)
    python scripts/model_table.py configs/cifar10
"""

from __future__ import annotations

import argparse
import inspect
import pydoc
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml

from litzoo.cli.lightning_cli import DATA_LINKS
from litzoo.runs.folder import is_experiment_config

REPO_ROOT = Path(__file__).resolve().parents[1]

DATAMODULE_SUFFIX = "DataModule"


def locate(class_path: str) -> type:
    found = pydoc.locate(class_path)
    if not inspect.isclass(found):
        raise ValueError(f"{class_path!r} is not an importable class")
    return found


def build(section: dict[str, Any], **linked: Any) -> Any:
    """Instantiate ``{class_path, init_args}``; the ``linked`` values win, as the CLI's links do."""
    return locate(section["class_path"])(**{**(section.get("init_args") or {}), **linked})


def data_links(datamodule: Any) -> dict[str, Any]:
    """The net arguments the CLI links from ``datamodule``: each of ``DATA_LINKS``, by the same name."""
    return {name: getattr(datamodule, name) for name in DATA_LINKS}


def args_text(init_args: dict[str, Any] | None) -> str:
    return ", ".join(f"{k}={v}" for k, v in (init_args or {}).items())


def table_row(config: Path) -> str:
    spec = yaml.safe_load(config.read_text())
    net_section = spec["model"]["init_args"]["net"]
    datamodule = build(spec["data"])
    net = build(net_section, **data_links(datamodule))
    parameters = sum(p.numel() for p in net.parameters())
    name = net_section["class_path"].rsplit(".", 1)[-1]
    args = args_text(net_section.get("init_args"))
    architecture = f"`{name}({args})`" if args else f"`{name}`"
    dataset = type(datamodule).__name__.removesuffix(DATAMODULE_SUFFIX)
    shape = "x".join(str(s) for s in datamodule.input_shape)
    path = config.resolve().relative_to(REPO_ROOT).as_posix()
    return f"| {architecture} | {dataset} ({shape}) | {parameters:,} | `{path}` |"


def experiment_configs(roots: Iterable[Path]) -> list[Path]:
    configs = []
    for root in roots:
        paths = [root] if root.is_file() else sorted(root.rglob("*.yaml"))
        configs += [p for p in paths if is_experiment_config(p)]
    return configs


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="*", type=Path, default=[REPO_ROOT / "configs"])
    args = parser.parse_args(argv)
    print("| architecture | dataset (input) | parameters | config |")
    print("|---|---|---:|---|")
    for config in experiment_configs(args.paths):
        print(table_row(config))


if __name__ == "__main__":
    main()
