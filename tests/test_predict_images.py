"""``predict`` on your own pictures: digits drawn here with PIL, framed like MNIST, one CSV row per file."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path

import pytest
import torch
from PIL import Image, ImageDraw

from litzoo.cli.lightning_cli import cli_main
from litzoo.cli.user_errors import root_cause
from litzoo.datamodules.image_files import UnreadableImageError
from litzoo.datamodules.image_framing import center_of_mass, fit_square, frame_digit
from litzoo.dataset_files import write_mnist
from tests.conftest import CONFIGS, QUIET, all_run_folders, evaluation_folders, inside

LENET = str(CONFIGS / "mnist" / "lenet5.yaml")
FIELD_CENTRE = 13.5  # the middle of 28 pixels numbered 0..27
#: The digit is moved by whole pixels: its centre of mass ends within half a pixel of the centre,
#: plus the rounding of the grey levels to uint8.
CENTRE_TOLERANCE = 0.55
BLACK, WHITE = (0, 0, 0), (255, 255, 255)


def draw_seven(size: tuple[int, int], ink=BLACK, paper=WHITE, mode: str = "RGB") -> Image.Image:
    """A thick "7" in the upper left of a ``size`` canvas (away from the centre on purpose)."""
    image = Image.new(mode, size, paper)
    ImageDraw.Draw(image).line([(40, 30), (120, 30), (70, 170)], fill=ink, width=12)
    return image


def draw_zero(size: tuple[int, int]) -> Image.Image:
    """A dark "0", 60 wide and 100 high, in the lower right of a light-grey canvas."""
    image = Image.new("L", size, 230)
    width, height = size
    ImageDraw.Draw(image).ellipse([width - 90, height - 130, width - 30, height - 30], outline=20, width=10)
    return image


def ink_box(digit: torch.Tensor) -> tuple[int, int]:
    """(height, width) of the bounding box of the non-black pixels of a ``(1, H, W)`` image."""
    rows, columns = torch.nonzero(digit[0], as_tuple=True)
    return int(rows.max() - rows.min() + 1), int(columns.max() - columns.min() + 1)


# ------------------------------------------------------------------------------------------- framing
@pytest.mark.parametrize(
    ("picture", "aspect"),
    [(draw_seven((300, 200)), 140 / 80), (draw_zero((400, 250)), 100 / 60)],
    ids=["seven_on_white", "zero_on_grey_paper"],
)
def test_dark_digit_on_light_paper_is_framed_like_mnist(picture, aspect):
    digit = frame_digit(picture)
    assert digit.shape == (1, 28, 28) and digit.dtype == torch.uint8
    # Light ink on a black background, like MNIST: the corners are black, the strokes bright.
    assert digit[0, [0, 0, -1, -1], [0, -1, 0, -1]].tolist() == [0, 0, 0, 0]
    assert digit.max() == 255
    # The bounding box is scaled to fit 20x20, keeping its aspect ratio (both digits are taller).
    height, width = ink_box(digit)
    assert height == 20
    assert width == pytest.approx(20 / aspect, abs=1.5)
    row, column = center_of_mass(digit[0].float())
    assert abs(row - FIELD_CENTRE) <= CENTRE_TOLERANCE
    assert abs(column - FIELD_CENTRE) <= CENTRE_TOLERANCE


def test_light_on_dark_and_transparent_drawings_frame_the_same():
    dark_on_light = frame_digit(draw_seven((300, 200)))
    assert torch.equal(frame_digit(draw_seven((300, 200), ink=WHITE, paper=BLACK)), dark_on_light)
    # A paint program's transparent background shows as white: the strokes are the digit.
    transparent = draw_seven((300, 200), ink=(0, 0, 0, 255), paper=(0, 0, 0, 0), mode="RGBA")
    assert torch.equal(frame_digit(transparent), dark_on_light)


def test_blank_picture_is_an_empty_field():
    assert frame_digit(Image.new("RGB", (50, 50), WHITE)).eq(0).all()


def test_colour_picture_keeps_its_aspect_ratio_in_the_cifar_square():
    # 80x40: red left half, blue right half. The shorter side becomes 32 (64x32), the centre 32
    # columns are kept: columns 16..47 of the resized picture, i.e. red then blue, 16 columns each.
    picture = Image.new("RGB", (80, 40), (255, 0, 0))
    picture.paste((0, 0, 255), (40, 0, 80, 40))
    square = fit_square(picture, side=32)
    assert square.shape == (3, 32, 32) and square.dtype == torch.uint8
    assert square[:, :, :15].float().mean((1, 2)).tolist() == pytest.approx([255, 0, 0], abs=1)
    assert square[:, :, 17:].float().mean((1, 2)).tolist() == pytest.approx([0, 0, 255], abs=1)
    grey = fit_square(Image.new("L", (20, 50), 100), side=32)
    assert grey.shape == (3, 32, 32) and grey.eq(100).all()


# ------------------------------------------------------------------------------ predict through the CLI
@pytest.fixture(scope="module")
def lenet_checkpoint(tmp_path_factory) -> Iterator[Path]:
    """A LeNet-5 checkpoint trained for one epoch on the tiny synthetic MNIST (absolute path)."""
    folder = tmp_path_factory.mktemp("lenet")
    data = write_mnist(folder / "data", n_train=300, n_test=20)
    with inside(folder):
        cli = cli_main(
            ["fit", "--config", LENET, "--data.init_args.data_dir", str(data), "--data.init_args.download",
             "false", "--data.init_args.val_size", "100", "--trainer.max_epochs", "1", *QUIET]
        )  # fmt: skip
    yield folder / cli.trainer.checkpoint_callback.best_model_path


def predict(checkpoint: Path, predict_path: str, *options: str):
    """``predict`` of the LeNet-5 config on ``predict_path``; no MNIST files exist where it runs."""
    return cli_main(
        ["predict", "--config", LENET, "--ckpt_path", str(checkpoint), "--data.init_args.data_dir",
         "no_mnist_here", "--data.init_args.download", "false", "--data.init_args.predict_path",
         predict_path, *options, *QUIET]
    )  # fmt: skip


@pytest.fixture
def digits(in_tmp_dir: Path) -> Path:
    """``digits/``: two PNG drawings and a JPEG photo-like picture, each a different digit or place."""
    folder = in_tmp_dir / "digits"
    folder.mkdir()
    draw_seven((300, 200)).save(folder / "a_seven.png")
    draw_zero((400, 250)).save(folder / "b_zero.png")
    draw_seven((200, 260), ink=(40, 40, 90), paper=(200, 190, 170)).save(folder / "c_seven.jpg")
    return folder


def evaluations_of(checkpoint: Path) -> list[Path]:
    """The evaluation folders filed in the checkpoint's training run (where ``predict`` writes)."""
    return evaluation_folders(checkpoint.parent.parent)


def csv_rows(run: Path) -> list[dict[str, str]]:
    with (run / "predictions.csv").open(newline="") as file:
        return list(csv.DictReader(file))


def test_predictions_name_each_file_and_match_the_framed_images(lenet_checkpoint, digits, in_tmp_dir):
    predicted = predict(lenet_checkpoint, "digits")
    rows = csv_rows(Path(predicted.trainer.log_dir))
    names = predicted.datamodule.class_names
    files = sorted(str(Path("digits") / p.name) for p in digits.iterdir())
    assert [r["file"] for r in rows] == files
    assert list(rows[0]) == ["index", "file", "predicted", "predicted_name", *(f"prob_{n}" for n in names)]
    # Each row holds the model's output on that file's picture, framed, padded to 32 and normalized.
    datamodule, task = predicted.datamodule, predicted.model.eval()
    framed = torch.stack([frame_digit(Image.open(f)) for f in files])
    with torch.no_grad():
        expected = torch.softmax(task(datamodule.preprocess(framed, train=False)), dim=-1)
    got = torch.tensor([[float(r[f"prob_{n}"]) for n in names] for r in rows])
    torch.testing.assert_close(got, expected)
    assert [int(r["predicted"]) for r in rows] == expected.argmax(1).tolist()


def test_a_glob_picks_its_files(lenet_checkpoint, digits, in_tmp_dir):
    run = Path(predict(lenet_checkpoint, "digits/*.png").trainer.log_dir)
    assert [r["file"] for r in csv_rows(run)] == ["digits/a_seven.png", "digits/b_zero.png"]


def test_unreadable_file_stops_naming_it_and_leaves_no_run_folder(lenet_checkpoint, digits, in_tmp_dir):
    (digits / "notes.txt").write_text("not a picture\n")
    before = evaluations_of(lenet_checkpoint)
    with pytest.raises(ValueError) as raised:
        predict(lenet_checkpoint, "digits")
    error = root_cause(raised.value)  # what the command prints after "error:"
    assert isinstance(error, UnreadableImageError)
    assert str(error).startswith("digits/notes.txt cannot be read as an image")
    assert "--data.init_args.skip_unreadable true" in str(error)
    assert evaluations_of(lenet_checkpoint) == before
    assert all_run_folders(in_tmp_dir) == []


def test_unreadable_files_can_be_skipped_and_listed(lenet_checkpoint, digits, in_tmp_dir):
    (digits / "notes.txt").write_text("not a picture\n")
    with pytest.warns(UserWarning, match=r"Skipped 1 unreadable file\(s\)[\s\S]*notes\.txt"):
        predicted = predict(lenet_checkpoint, "digits", "--data.init_args.skip_unreadable", "true")
    run = Path(predicted.trainer.log_dir)
    assert "digits/notes.txt" not in [r["file"] for r in csv_rows(run)]
    assert len(csv_rows(run)) == 3


def test_missing_predict_path_is_a_clear_error(lenet_checkpoint, in_tmp_dir):
    before = evaluations_of(lenet_checkpoint)
    with pytest.raises(ValueError) as raised:
        predict(lenet_checkpoint, "my_digits")
    error = root_cause(raised.value)
    assert isinstance(error, FileNotFoundError)
    assert "predict_path my_digits: no such file or folder" in str(error)
    assert evaluations_of(lenet_checkpoint) == before
    assert all_run_folders(in_tmp_dir) == []


# ------------------------------------------------------------------------- pictures with nothing to read
def test_pictures_with_nothing_to_read_are_named_in_one_warning(in_tmp_dir):
    """Blank, 1x1 and a float TIFF (0..1, which Pillow reads as black) are predicted, with a warning
    naming each file and why (issue 28); a drawn digit is not named."""
    import numpy as np

    from litzoo.datamodules.image_files import read_images

    folder = in_tmp_dir / "odd"
    folder.mkdir()
    Image.new("L", (50, 50), 255).save(folder / "blank.png")
    Image.new("RGB", (1, 1), BLACK).save(folder / "dot.png")
    pixels = np.ones((100, 100), np.float32)
    pixels[20:80, 45:55] = 0.0  # a dark "1" on white, as floats
    Image.fromarray(pixels).save(folder / "float.tif")
    draw_seven((300, 200)).save(folder / "seven.png")
    with pytest.warns(UserWarning) as warned:
        batch = read_images(folder, frame_digit)
    assert len(batch.files) == 4
    (message,) = [str(w.message) for w in warned if "nothing to read" in str(w.message)]
    lines = message.splitlines()
    assert lines[0].startswith(f"3 picture(s) of predict_path {folder} show nothing to read")
    assert lines[1:] == [
        f"  {folder / 'blank.png'} (blank: every pixel is 255)",
        f"  {folder / 'dot.png'} (1x1 pixels, too small to hold a digit or an object)",
        f"  {folder / 'float.tif'} (F pixels from 0 to 1 (a float or 16/32-bit image), read as 8-bit grey "
        "levels 0 to 255, which loses them: save it as an 8-bit PNG or JPEG)",
    ]
