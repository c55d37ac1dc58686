"""docs/adding-a-model.md and docs/adding-a-dataset.md, followed literally in a temporary folder.

The files are the guides' own code blocks (each block whose first line is a ``# <file name>``
comment), and the commands their ``bash`` blocks, run as the user would run them, through the CLI in
a subprocess; a test only adds ``--trainer.max_epochs 1`` and points file-backed data at a tiny copy
written offline (tests/conftest.py's ``config_data_args``). So the guides and this test cannot drift:
change a guide and this test runs the new text.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

import litzoo.datamodules
import litzoo.models.cnn
from litzoo.runs.folder import experiment_from_configs
from tests.conftest import (
    REPO_ROOT,
    config_data_args,
    datamodule_of,
    discover_nets,
    experiment_configs,
    read_config,
)

DOCS = REPO_ROOT / "docs"
MODEL_GUIDE = DOCS / "adding-a-model.md"
DATASET_GUIDE = DOCS / "adding-a-dataset.md"
#: A fenced code block: its language tag and its text.
FENCE = re.compile(r"^```(\w*)\n(.*?)^```", re.MULTILINE | re.DOTALL)
#: The first line of a code block that is a file: ``# my_nets.py``, ``# configs/data/blobs.yaml``.
FILE_TAG = re.compile(r"^# ([\w./-]+\.(?:py|yaml))\n")
#: The line a fit prints per epoch, with the validation metric: ``epoch 1/1  loss 2.3  val/acc 0.1 ...``.
EPOCH_LINE = re.compile(r"^epoch 1/1 .*\bval/acc \d", re.MULTILINE)
#: Every subprocess: one thread per process (the machine's cores are shared).
RUN_ENV = {"OMP_NUM_THREADS": "1"}
COMMAND_TIMEOUT_S = 300


def sections(guide: Path) -> dict[str, str]:
    """The guide's ``## `` sections, by title (the text before the first one under ``""``)."""
    parts = re.split(r"^## (.+)$", guide.read_text(encoding="utf-8"), flags=re.MULTILINE)
    return {"": parts[0], **dict(zip(parts[1::2], parts[2::2], strict=True))}


def code_blocks(text: str, language: str | None = None) -> list[str]:
    return [body for tag, body in FENCE.findall(text) if language is None or tag == language]


def guide_files(guide: Path) -> dict[str, str]:
    """Every file the guide shows: path -> content (the ``# <path>`` line included, a comment)."""
    files = {}
    for body in code_blocks(guide.read_text(encoding="utf-8")):
        tag = FILE_TAG.match(body)
        if tag:
            assert tag.group(1) not in files, f"{guide.name} shows {tag.group(1)} twice"
            files[tag.group(1)] = body
    return files


def commands(text: str) -> list[str]:
    """The command lines of the ``bash`` blocks in ``text``."""
    return [line for body in code_blocks(text, "bash") for line in body.splitlines() if line.strip()]


def write_files(guide: Path, folder: Path) -> dict[str, str]:
    files = guide_files(guide)
    for name, content in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(content, encoding="utf-8")
    return files


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """The user's project folder, importable from this process too (to read its datamodules)."""
    monkeypatch.syspath_prepend(str(tmp_path))
    yield tmp_path
    for name, module in list(sys.modules.items()):
        if str(getattr(module, "__file__", None) or "").startswith(str(tmp_path)):
            del sys.modules[name]


def litzoo_script() -> str:
    """The ``litzoo`` console script of the Python running the tests."""
    script = Path(sys.executable).with_name("litzoo")
    return str(script) if script.is_file() else shutil.which("litzoo") or "litzoo"


def config_values(argv: list[str]) -> list[str]:
    return [argv[i + 1] for i, arg in enumerate(argv[:-1]) if arg == "--config"]


def added_arguments(argv: list[str], folder: Path, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """What the test adds to a guide's command: one epoch for a fit, and test data for file-backed
    datamodules (decided by the last of the command's configs that has a data section)."""
    subcommand = argv[0]
    added = ["--trainer.max_epochs", "1"] if subcommand == "fit" else []
    with_data = [c for c in config_values(argv) if "data" in read_config(folder / c)]
    if with_data:
        added += config_data_args(folder / with_data[-1], folder / "data", monkeypatch)
    return added


def run(program: list[str], argv: list[str], folder: Path, env: dict[str, str] | None = None):
    environment = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    environment.update(RUN_ENV, **(env or {}))
    return subprocess.run(
        [*program, *argv],
        cwd=folder,
        env=environment,
        capture_output=True,
        text=True,
        timeout=COMMAND_TIMEOUT_S,
    )


def parse(line: str) -> tuple[dict[str, str], list[str], list[str]]:
    """``PYTHONPATH=. litzoo fit --config c.yaml`` -> ({"PYTHONPATH": "."}, program, ["fit", ...])."""
    words = shlex.split(line)
    env = {}
    while "=" in words[0] and not words[0].startswith("-"):
        name, _, value = words.pop(0).partition("=")
        env[name] = value
    if words[:3] == ["python", "-m", "litzoo"]:
        return env, [sys.executable, "-m", "litzoo"], words[3:]
    assert words[0] == "litzoo", f"not a litzoo command: {line}"
    return env, [litzoo_script()], words[1:]


def check_result(result: subprocess.CompletedProcess, line: str, argv: list[str], folder: Path) -> None:
    output = f"stdout:\n{result.stdout}\nstderr:\n{result.stderr[-6000:]}"
    assert result.returncode == 0, f"{line} failed (exit {result.returncode})\n{output}"
    if argv[0] == "fit":
        assert EPOCH_LINE.search(result.stdout), f"{line}: no epoch line with val/acc\n{output}"
        experiment = experiment_from_configs(config_values(argv))
        assert list((folder / "lightning_logs" / experiment).glob("version_*/checkpoints/*.ckpt")), (
            f"{line}: no checkpoint under lightning_logs/{experiment}\n{output}"
        )
    elif argv[0] == "test":
        assert "test/acc" in result.stdout, f"{line}: no test metrics\n{output}"


def follow(text: str, folder: Path, monkeypatch: pytest.MonkeyPatch, program: list[str] | None = None) -> int:
    """Run every command of the ``bash`` blocks in ``text`` in ``folder``; return how many ran.

    ``program`` replaces the command's own (``litzoo``, ``python -m litzoo``) when given.
    """
    lines = commands(text)
    for line in lines:
        env, own_program, argv = parse(line)
        argv += added_arguments(argv, folder, monkeypatch)
        result = run(program or own_program, argv, folder, env)
        check_result(result, line, argv, folder)
    return len(lines)


#: The sections whose commands the tests below run.
FOLLOWED = {MODEL_GUIDE: ("In your own project", "Inside litzoo"), DATASET_GUIDE: ("In your own project",)}


@pytest.mark.parametrize("guide", list(FOLLOWED), ids=lambda guide: guide.name)
def test_every_command_of_the_guides_is_run(guide):
    unfollowed = {
        title: commands(text) for title, text in sections(guide).items() if title not in FOLLOWED[guide]
    }
    assert not any(unfollowed.values()), f"{guide.name}: commands no test runs: {unfollowed}"
    assert all(commands(sections(guide)[title]) for title in FOLLOWED[guide])


# --------------------------------------------------------------------------- the model guide
def test_the_model_guide_trains_a_net_of_the_users_own(project, monkeypatch):
    guide = sections(MODEL_GUIDE)
    files = write_files(MODEL_GUIDE, project)
    assert {"my_nets.py", "my_tinynet.yaml"} <= set(files)
    own_project = guide["In your own project"]
    assert follow(own_project, project, monkeypatch) >= 3  # fit, test, and fit with PYTHONPATH=.

    # What the guide says the console script does without PYTHONPATH: its console block.
    (console,) = code_blocks(own_project, "console")
    command, shown = console.splitlines()[:2]
    env, program, argv = parse(command.removeprefix("$ "))
    expected = shown.strip().removeprefix("...").removesuffix("...").strip()
    result = run(program, argv, project, env)
    assert result.returncode != 0 and expected in result.stderr + result.stdout, result.stderr[-3000:]


def test_the_model_guide_adds_a_net_to_litzoo(project, monkeypatch):
    """The in-litzoo half: the copied file is found by the net discovery the tests use, its config by
    the config discovery, and it trains through the CLI, with ``litzoo.models.cnn`` extended by the
    temporary folder (the clone's models/ stays as it is)."""
    guide = sections(MODEL_GUIDE)
    write_files(MODEL_GUIDE, project)
    text = guide["Inside litzoo"]
    assert "Copy `my_nets.py` to `models/cnn/tiny_net.py`" in text
    folder = project / "models" / "cnn"
    folder.mkdir(parents=True)
    shutil.copy(project / "my_nets.py", folder / "tiny_net.py")

    assert experiment_configs(project / "configs") == [project / "configs" / "mnist" / "tiny_net.yaml"]
    module = "litzoo.models.cnn.tiny_net"
    monkeypatch.setattr(litzoo.models.cnn, "__path__", [*litzoo.models.cnn.__path__, str(folder)])
    try:
        found = [net for net in discover_nets() if net.__module__ == module]
    finally:
        sys.modules.pop(module, None)
        if hasattr(litzoo.models.cnn, "tiny_net"):
            delattr(litzoo.models.cnn, "tiny_net")
    assert [net.__name__ for net in found] == ["TinyNet"]

    extend = (
        "import sys, litzoo.models.cnn as cnn; cnn.__path__.append(sys.argv.pop(1)); "
        "from litzoo.startup import main; main()"
    )
    assert follow(text, project, monkeypatch, [sys.executable, "-c", extend, str(folder)]) == 1


# --------------------------------------------------------------------------- the dataset guide
def test_the_dataset_guide_trains_on_a_dataset_of_the_users_own(project, monkeypatch):
    guide = sections(DATASET_GUIDE)
    files = write_files(DATASET_GUIDE, project)
    assert {"my_data.py", "configs/data/blobs.yaml", "configs/blobs/mlp.yaml"} <= set(files)
    # An in-memory datamodule: no test data to provide, nothing for the tests to list.
    assert config_data_args(project / "configs" / "data" / "blobs.yaml", project / "data", monkeypatch) == []
    assert follow(guide["In your own project"], project, monkeypatch) == 2  # fit, test


def test_the_dataset_guide_adds_a_datamodule_to_litzoo(project, monkeypatch):
    """The in-litzoo half: the copied file imports as litzoo.datamodules.blobs, and a config naming it
    needs no test data (the rule the config tests follow), with no list edited anywhere."""
    text = sections(DATASET_GUIDE)["Inside litzoo"]
    write_files(DATASET_GUIDE, project)
    assert "Copy `my_data.py` to `datamodules/blobs.py`" in text
    class_path = "litzoo.datamodules.blobs.BlobsDataModule"
    assert class_path in text
    folder = project / "datamodules"
    folder.mkdir()
    shutil.copy(project / "my_data.py", folder / "blobs.py")
    config = project / "configs" / "data" / "blobs.yaml"
    config.write_text(config.read_text().replace("my_data.BlobsDataModule", class_path))

    module = "litzoo.datamodules.blobs"
    monkeypatch.setattr(litzoo.datamodules, "__path__", [*litzoo.datamodules.__path__, str(folder)])
    try:
        assert datamodule_of(config).__module__ == module
        assert config_data_args(config, project / "data", monkeypatch) == []
    finally:
        sys.modules.pop(module, None)
        if hasattr(litzoo.datamodules, "blobs"):
            delattr(litzoo.datamodules, "blobs")
