"""``pip install .`` and ``pip install -e .`` put only ``litzoo`` on the import path: a project of the
user's own with a ``models.py`` and a ``datamodules/`` package keeps its names, and ``litzoo fit``
run from that project trains.

Each case installs litzoo (without dependencies, which come from the test's own environment: no
download) into a fresh virtual environment, then runs the installed command there.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sysconfig
import venv
from pathlib import Path

import pytest

from tests.conftest import CONFIGS, REPO_ROOT, TINY

pytestmark = pytest.mark.slow

USERS_MODELS = "class LeNet5:\n    mine = True\n"
USERS_DATAMODULES = "WHOSE = 'mine'\n"


def users_project(folder: Path) -> Path:
    """A folder with the user's own ``models.py`` and ``datamodules/`` package."""
    folder.mkdir()
    (folder / "models.py").write_text(USERS_MODELS)
    (folder / "datamodules").mkdir()
    (folder / "datamodules" / "__init__.py").write_text(USERS_DATAMODULES)
    return folder


def not_sources(folder: str, names: list[str]) -> list[str]:
    """What a clone's top folder holds beside the sources: git, venvs, build output, runs and data."""
    if Path(folder) != REPO_ROOT:
        return []
    outputs = {"build", "lightning_logs", "data"}
    return [name for name in names if name.startswith(".") or name in outputs or name.endswith(".egg-info")]


@pytest.mark.parametrize("editable", [False, True], ids=["pip-install", "pip-install-editable"])
def test_an_installed_litzoo_leaves_the_users_models_and_datamodules_alone(editable, tmp_path):
    env_dir = tmp_path / "env"
    venv.create(env_dir)  # without pip: pip and setuptools come from the running environment too
    python = env_dir / "bin" / "python"
    site_packages = Path(
        subprocess.run(
            [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            capture_output=True, text=True, check=True, timeout=600,
        ).stdout.strip()
    )  # fmt: skip
    # The dependencies (torch, Lightning...) of the running environment, after the new environment's
    # own packages on the path: a .pth line appends its folder without running that folder's .pth
    # files, so the running environment's litzoo (an editable install's finder) stays out.
    (site_packages / "dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    environment = {**os.environ, "PIP_NO_INDEX": "1"}
    environment.pop("PYTHONPATH", None)
    # From a copy of the sources: building writes build/ and *.egg-info into the folder it builds.
    source = tmp_path / "litzoo-source"
    shutil.copytree(REPO_ROOT, source, ignore=not_sources)
    install = [str(python), "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation"]
    install += ["-e", str(source)] if editable else [str(source)]
    subprocess.run(install, env=environment, check=True, capture_output=True, cwd=tmp_path, timeout=600)

    assert not (site_packages / "models").exists() and not (site_packages / "datamodules").exists()

    project = users_project(tmp_path / "project")
    probe = (
        "import models, datamodules, litzoo.models, litzoo.datamodules\n"
        "print(models.LeNet5.mine, datamodules.WHOSE, litzoo.models.LeNet5.__module__)\n"
    )
    # python -m puts the working folder first on the path, as a user's own script does.
    seen = subprocess.run(
        [str(python), "-c", probe], env=environment, capture_output=True, text=True, cwd=project, timeout=600
    )
    assert seen.stdout.split() == ["True", "mine", "litzoo.models.cnn.lenet"], seen.stderr
    where = subprocess.run(
        [str(python), "-c", "import litzoo.models; print(litzoo.models.__file__)"],
        env=environment, capture_output=True, text=True, cwd=project, check=True,
        timeout=600,
    ).stdout  # fmt: skip
    assert where.startswith(str(source if editable else site_packages)), where  # the install, not this clone

    fit = [
        str(env_dir / "bin" / "litzoo"),
        "fit",
        "--config",
        str(CONFIGS / "regression" / "mlp.yaml"),
        *TINY,
    ]
    fit += ["--trainer.max_epochs", "1", "--trainer.enable_progress_bar", "false"]
    for command in (fit, [str(python), "-m", "litzoo", *fit[1:]]):  # the command, and python -m
        trained = subprocess.run(
            command, env=environment, capture_output=True, text=True, cwd=project, timeout=600
        )
        assert trained.returncode == 0, trained.stderr[-3000:]
        assert "Best val/mse" in trained.stdout + trained.stderr
    assert len(list((project / "lightning_logs").rglob("best-*.ckpt"))) == 2
