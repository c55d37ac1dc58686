"""scripts/tensorboard_images.py saves the latest TensorBoard image of each tag under the run folders given."""

from __future__ import annotations

from pathlib import Path

import numpy
import pytest
import torch
from PIL import Image
from torch.utils.tensorboard import SummaryWriter

from scripts import tensorboard_images


def pixels(path: Path) -> torch.Tensor:
    return torch.from_numpy(numpy.array(Image.open(path))).permute(2, 0, 1)


def test_saves_each_tags_latest_image(tmp_path):
    writer = SummaryWriter(str(tmp_path / "run"))
    old = torch.zeros(3, 8, 8, dtype=torch.uint8)
    new = torch.randint(0, 256, (3, 8, 8), dtype=torch.uint8)
    writer.add_image("samples/train", old, global_step=0)
    writer.add_image("samples/train", new, global_step=5)
    writer.add_image("confusion_matrix/test", torch.ones(3, 4, 6), global_step=5)
    writer.close()
    written = tensorboard_images.main(
        [str(tmp_path / "run"), "--out", str(tmp_path / "images"), "--prefix", "x"]
    )
    assert [p.name for p in written] == ["x_samples_train.png", "x_confusion_matrix_test.png"]
    assert torch.equal(pixels(written[0]), new)  # the latest one, pixel for pixel
    assert Image.open(written[1]).size == (6, 4)


def test_searches_subfolders_and_takes_the_latest_by_time(tmp_path):
    """A test run filed inside its training run (``<run>/test_0``) or beside it: both are found, and of
    several folders' images of one tag the one logged last wins, whatever its step."""
    run, beside = tmp_path / "version_0", tmp_path / "version_1"
    first = torch.zeros(3, 8, 8, dtype=torch.uint8)
    last = torch.full((3, 8, 8), 200, dtype=torch.uint8)
    for folder, image, step, walltime in ((run, first, 9, 100.0), (beside, last, 0, 200.0)):
        with SummaryWriter(str(folder)) as writer:
            writer.add_image("samples/train", image, global_step=step, walltime=walltime)
    with SummaryWriter(str(run / "test_0")) as writer:
        writer.add_image("confusion_matrix/test", torch.ones(3, 4, 6), global_step=9)
    written = tensorboard_images.main(
        [str(run), str(beside), "--out", str(tmp_path / "images"), "--prefix", "x"]
    )
    assert torch.equal(pixels(written[0]), last)
    assert Image.open(written[1]).size == (6, 4)


def test_names_missing_tags_and_writes_nothing(tmp_path, capsys):
    writer = SummaryWriter(str(tmp_path / "run"))
    writer.add_image("samples/train", torch.zeros(3, 8, 8))
    writer.close()
    with pytest.raises(SystemExit):
        tensorboard_images.main([str(tmp_path / "run"), "--out", str(tmp_path / "images"), "--prefix", "x"])
    assert (
        "no image logged as confusion_matrix/test (their image tags: samples/train)"
        in capsys.readouterr().err
    )
    assert not (tmp_path / "images").exists()
