"""scripts/readme_figures.py reruns the README's figure commands and writes docs/images/FIGURES.md from
their runs; the README quotes what FIGURES.md holds."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import pytest
import yaml
from PIL import Image

from litzoo.dataset_files import write_mnist
from scripts import readme_figures
from tests.conftest import REPO_ROOT

README = REPO_ROOT / "README.md"
IMAGES = REPO_ROOT / "docs" / "images"
HEADING = re.compile(r"^#{1,6} ")


def readme_sections(text: str) -> list[str]:
    """The README cut at its headings (those outside fenced code blocks), each section's text on one line."""
    sections, fenced = [[]], False
    for line in text.splitlines():
        fenced ^= line.startswith("```")
        if not fenced and HEADING.match(line):
            sections.append([])
        sections[-1].append(line)
    return [" ".join(" ".join(lines).split()) for lines in sections]  # Markdown reads a line break as a space


def test_readme_quotes_the_numbers_figures_md_holds():
    # The README and the pages of docs/ it links to; those link to images/FIGURES.md (relative to docs/).
    pages = [README.read_text(), *(page.read_text() for page in sorted((REPO_ROOT / "docs").glob("*.md")))]
    figures = readme_figures.quoted_numbers((IMAGES / readme_figures.FIGURES_FILE).read_text())
    sections = [section for page in pages for section in readme_sections(page)]
    assert set(figures) == {"regression_mlp_curves", "mnist_dev_lenet5", "own_digits", "lr_find_lenet5"}
    for name, (_, quotes) in figures.items():
        linking = [section for section in sections if f"images/FIGURES.md#{name}" in section]
        assert linking, f"no section of README.md or docs/*.md links to docs/images/FIGURES.md#{name}"
        missing = [quote for quote in quotes if not any(quote in section for section in linking)]
        assert not missing, f"the section linking to FIGURES.md#{name} does not quote {missing}"
    shown = {image for page in pages for image in re.findall(r"images/([\w.]+\.png)", page)}
    listed = {image for images, _ in figures.values() for image in images}
    assert shown and shown <= listed  # every picture in the README has its commands in FIGURES.md
    assert all((IMAGES / image).is_file() for image in listed)


def rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as file:
        return list(csv.DictReader(file))


def with_column(runs: Path, name: str, column: str) -> list[Path]:
    return [path for path in runs.rglob(name) if column in path.read_text().splitlines()[0].split(",")]


@pytest.mark.slow
def test_all_reruns_the_commands_and_quotes_their_runs(tmp_path):
    # Noise digits: the model stays at chance, so its test set has confusions to quote.
    mnist = write_mnist(tmp_path / "mnist", n_train=4000, n_test=300, learnable=False)
    out, logs = tmp_path / "images", tmp_path / "work"
    sections = readme_figures.main(
        ["--mnist_dir", str(mnist), "--out", str(out), "--logs", str(logs), "--epochs", "1"]
    )
    figures_md = (out / readme_figures.FIGURES_FILE).read_text()
    written = readme_figures.quoted_numbers(figures_md)
    assert {name: quotes for name, (_, quotes) in written.items()} == {
        s.name: [q.text for q in s.quotes] for s in sections
    }
    for images, _ in written.values():
        for image in images:
            assert Image.open(out / image).format == "PNG"
    runs = logs / "lightning_logs"

    (regression,) = with_column(runs / "regression", "metrics.csv", "val/mse")
    mse = min(float(r["val/mse"]) for r in rows(regression) if r["val/mse"])
    assert f"best val MSE {mse:.3g}" in written["regression_mlp_curves"][1]
    (tested,) = with_column(runs / "mnist", "metrics.csv", "test/acc")
    accuracy = float(rows(tested)[-1]["test/acc"])
    (predicted,) = with_column(runs / "mnist", "predictions.csv", "target")
    mistakes = [(r["target"], r["predicted"]) for r in rows(predicted) if r["target"] != r["predicted"]]
    true, pred = max(set(mistakes), key=lambda m: (mistakes.count(m), -int(m[0]), -int(m[1])))
    lenet = written["mnist_dev_lenet5"][1]
    assert lenet[:2] == [
        f"test accuracy {accuracy:.2%}",
        f"{true} read as {pred} ({mistakes.count((true, pred))} images)",
    ]
    (lr_run,) = [path.parent for path in runs.rglob("lr_find.png")]
    lr = yaml.safe_load((lr_run / "config.yaml").read_text())["model"]["init_args"]["optimizer"]["init_args"][
        "lr"
    ]
    assert written["lr_find_lenet5"][1][0] == f"learning rate {lr:.4g}"
    assert (out / "lr_find_lenet5.png").read_bytes() == (lr_run / "lr_find.png").read_bytes()
    (own,) = with_column(runs / "mnist", "predictions.csv", "file")
    assert len(written["own_digits"][1]) == len(rows(own)) + 1  # a line per picture, then the probabilities

    # The commands read as a user types them from the repository root, with the epochs asked for.
    assert "litzoo fit --config configs/regression/mlp.yaml --trainer.max_epochs 1\n" in figures_md
    assert "python scripts/plot_metrics.py lightning_logs/regression/mlp/version_0 -o " in figures_md
    assert "--data.init_args.predict_path docs/images/own_digits\n" in figures_md
    assert re.search(r"litzoo fit --config lightning_logs/mnist/lenet5/version_\d+/config.yaml\n", figures_md)


def test_all_refuses_a_folder_without_mnist_and_writes_nothing(tmp_path, capsys):
    out = tmp_path / "images"
    with pytest.raises(SystemExit) as exit:
        readme_figures.main(["--mnist_dir", str(tmp_path), "--out", str(out)])
    assert exit.value.code == 2
    assert (
        f"--mnist_dir {tmp_path}: {tmp_path / 'MNIST' / 'raw'} lacks train-images-idx3-ubyte"
        in capsys.readouterr().err
    )
    assert not out.exists()
