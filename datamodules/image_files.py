"""The user's own image files for ``predict``: found from a file, folder or glob, read with Pillow."""

from __future__ import annotations

import glob
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import torch
from lightning.pytorch.utilities.rank_zero import rank_zero_warn
from PIL import Image, ImageOps, UnidentifiedImageError

OPTION = "--data.init_args.predict_path"
SKIP_OPTION = "--data.init_args.skip_unreadable"
GLOB_CHARACTERS = "*?["


class UnreadableImageError(ValueError):
    """A file given to ``predict`` is not an image Pillow can decode."""

    def __init__(self, path: Path, reason: str) -> None:
        self.path, self.reason = path, reason
        super().__init__(
            f"{path} cannot be read as an image ({reason}). {OPTION} takes PNG or JPEG images (a file, "
            f"a folder of them or a glob such as 'digits/*.png'). Fix: remove or convert that file, "
            f"narrow {OPTION} to the images, or pass {SKIP_OPTION} true to skip unreadable files and "
            "list them."
        )


def find_image_files(path: str | Path) -> list[Path]:
    """The files ``path`` names: the file itself, a folder's files (hidden ones aside) or a glob's matches.

    Sorted by path, so the rows of ``predictions.csv`` come in a stable order.
    """
    text = str(path)
    given = Path(text).expanduser()
    if given.is_file():
        return [given]
    if given.is_dir():
        files = sorted(p for p in given.iterdir() if p.is_file() and not p.name.startswith("."))
        what = f"the folder {given} holds no file"
    elif any(c in text for c in GLOB_CHARACTERS):
        files = sorted(Path(p) for p in glob.glob(str(given), recursive=True) if Path(p).is_file())
        what = f"the pattern {text!r} matches no file"
    else:
        raise FileNotFoundError(
            f"{OPTION} {text}: no such file or folder. Give a PNG or JPEG file, a folder of them or a "
            "glob in quotes (e.g. 'digits/*.png'), relative to the folder you run the command in."
        )
    if not files:
        raise FileNotFoundError(f"{OPTION} {text}: {what}. Point it at PNG or JPEG images.")
    return files


def read_image(path: Path) -> Image.Image:
    """The decoded image at ``path``, turned upright as its EXIF orientation says (phone photos).

    Decoding happens here, not lazily, so a truncated file fails now with its name.
    """
    try:
        with Image.open(path) as image:
            image.load()
            return ImageOps.exif_transpose(image)
    except (UnidentifiedImageError, Image.DecompressionBombError, OSError, ValueError, SyntaxError) as error:
        # Pillow's messages can span lines; the reason is kept to one, the error to one paragraph.
        reason = " ".join(str(error).split()) or type(error).__name__
        raise UnreadableImageError(path, reason) from error


#: A picture smaller than this on a side cannot hold a digit or an object a model could read.
MIN_SIDE = 8
#: Pillow's modes of more than 8 bits per pixel (32-bit float, 32-bit and 16-bit integers, the latter
#: as ``I;16``, ``I;16B``...): its conversion to grey levels or RGB clips their values to 0..255.
HIGH_DEPTH_MODES = ("F", "I")


def flat_extrema(image: Image.Image) -> tuple[float, float]:
    """The smallest and largest pixel value over every band of ``image``."""
    extrema = image.getextrema()
    bands = extrema if isinstance(extrema[0], tuple) else (extrema,)
    return min(lo for lo, _ in bands), max(hi for _, hi in bands)


def degenerate_reason(image: Image.Image, framed: torch.Tensor) -> str | None:
    """Why a picture gives the model nothing to read, or None: too small, pixels Pillow's 8-bit
    conversion loses, blank, or no stroke standing out once framed (``framed`` all one value)."""
    width, height = image.size
    if min(width, height) < MIN_SIDE:
        return f"{width}x{height} pixels, too small to hold a digit or an object"
    lowest, highest = flat_extrema(image)
    high_depth = image.mode.split(";")[0] in HIGH_DEPTH_MODES
    if high_depth and (highest <= 1 or highest > 255 or lowest < 0):
        return (
            f"{image.mode} pixels from {lowest:.3g} to {highest:.3g} (a float or 16/32-bit image), read "
            "as 8-bit grey levels 0 to 255, which loses them: save it as an 8-bit PNG or JPEG"
        )
    if not framed.ne(framed.flatten()[0]).any():
        if lowest == highest:
            return f"blank: every pixel is {lowest:g}"
        return "nothing stands out from its background: the framed picture is empty"
    return None


@dataclass
class ImageBatch:
    """The readable images of a predict path, framed, with the files they came from and those skipped."""

    images: torch.Tensor
    files: list[str]
    skipped: list[str] = field(default_factory=list)


def read_images(
    path: str | Path, frame: Callable[[Image.Image], torch.Tensor], skip_unreadable: bool = False
) -> ImageBatch:
    """Read and ``frame`` every image under ``path`` into one uint8 tensor ``(N, C, H, W)``.

    An unreadable file raises :class:`UnreadableImageError` naming it; with ``skip_unreadable`` it
    is left out and its name and reason are listed in ``skipped``. Reading stops with an error if no
    file is left. Pictures that give the model nothing to read (:func:`degenerate_reason`) are kept,
    and named with the reason in one warning: their predictions are guesses.
    """
    images, files, skipped, degenerate = [], [], [], []
    for file in find_image_files(path):
        try:
            image = read_image(file)
            images.append(frame(image))
        except UnreadableImageError as error:
            if not skip_unreadable:
                raise
            skipped.append(f"{error.path} ({error.reason})")
            continue
        files.append(str(file))
        reason = degenerate_reason(image, images[-1])
        if reason is not None:
            degenerate.append(f"{file} ({reason})")
    if not images:
        raise ValueError(
            f"{OPTION} {path}: none of its {len(skipped)} files can be read as an image "
            f"({'; '.join(skipped)}). Point it at PNG or JPEG images."
        )
    if degenerate:
        rank_zero_warn(
            f"{len(degenerate)} picture(s) of predict_path {path} show nothing to read; their rows in "
            "predictions.csv are guesses:\n  " + "\n  ".join(degenerate)
        )
    return ImageBatch(torch.stack(images), files, skipped)
