"""Bring a user's own picture to the format of a dataset's images, before the usual normalization.

A digit drawn in a paint program or photographed on paper is dark on light and sits anywhere in a
picture of any size; a CIFAR-10 model reads a small colour square. These functions turn such
pictures into uint8 tensors ``(C, H, W)`` like the ones the datamodules load from the dataset files.
"""

from __future__ import annotations

import torch
from PIL import Image
from torchvision.transforms.v2 import functional as TF

#: MNIST's framing (LeCun et al.): each digit's bounding box was scaled to fit 20x20 keeping its
#: aspect ratio (anti-aliased, hence grey levels), then placed in a 28x28 field so that its centre of
#: mass lies at the field's centre.
MNIST_FIELD = 28
MNIST_BOX = 20
#: After the background is brought to 0 and the darkest stroke to 255, pixels at least this bright
#: count as ink for the bounding box: paper grain and JPEG noise in a photograph stay below it, so
#: they do not stretch the box; the digit's fainter edge pixels inside the box are kept.
INK_THRESHOLD = 64
MAX_PIXEL = 255.0


def on_white(image: Image.Image) -> Image.Image:
    """The picture without transparency: transparent areas become white, as paint programs show them."""
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, "white")
        return Image.alpha_composite(background, rgba).convert("RGB")
    return image


def border_median(pixels: torch.Tensor) -> float:
    """Median of the outermost rows and columns of ``(H, W)`` pixels: the background level."""
    border = torch.cat([pixels[0], pixels[-1], pixels[:, 0], pixels[:, -1]])
    return border.median().item()


def ink_of(image: Image.Image) -> torch.Tensor:
    """Grayscale ink ``(H, W)`` in [0, 255], light on a black background, as MNIST stores digits.

    A light background (the border is mostly light: a digit drawn or written dark on white) is
    inverted. The background level is then subtracted and the strongest stroke stretched to 255, so
    a photograph's grey paper and faint pencil look like a drawn digit.
    """
    pixels = TF.pil_to_tensor(on_white(image).convert("L"))[0].float()
    if border_median(pixels) > MAX_PIXEL / 2:
        pixels = MAX_PIXEL - pixels
    ink = (pixels - border_median(pixels)).clamp(min=0)
    peak = ink.max()
    return ink * (MAX_PIXEL / peak) if peak > 0 else ink


def center_of_mass(pixels: torch.Tensor) -> tuple[float, float]:
    """(row, column) of the intensity-weighted mean position of ``(H, W)`` pixels (not all zero)."""
    rows = torch.arange(pixels.shape[0], dtype=pixels.dtype)
    columns = torch.arange(pixels.shape[1], dtype=pixels.dtype)
    total = pixels.sum()
    return (pixels.sum(1) @ rows / total).item(), (pixels.sum(0) @ columns / total).item()


def frame_digit(image: Image.Image, field: int = MNIST_FIELD, box: int = MNIST_BOX) -> torch.Tensor:
    """A picture of one digit framed the way MNIST was made: uint8 ``(1, field, field)``.

    Grayscale, light ink on black (see :func:`ink_of`); the ink's bounding box is cropped, scaled so
    its longer side is ``box`` pixels (aspect ratio kept, anti-aliased like MNIST's grey edges) and
    placed so that its centre of mass falls on the field's centre, to the nearest whole pixel. Where
    that would push part of a lopsided digit out of the field, the box is kept inside instead, so no
    ink is lost. A picture with no ink at all gives an empty (black) field.
    """
    ink = ink_of(image)
    canvas = torch.zeros(field, field)
    rows, columns = torch.nonzero(ink >= INK_THRESHOLD, as_tuple=True)
    if len(rows) == 0:
        return canvas.to(torch.uint8).unsqueeze(0)
    crop = ink[rows.min() : rows.max() + 1, columns.min() : columns.max() + 1]
    scale = box / max(crop.shape)
    height, width = (max(1, round(side * scale)) for side in crop.shape)
    digit = TF.resize(crop.unsqueeze(0), [height, width], antialias=True)[0].clamp(0, MAX_PIXEL)
    row, column = center_of_mass(digit)
    centre = (field - 1) / 2
    top = min(max(round(centre - row), 0), field - height)
    left = min(max(round(centre - column), 0), field - width)
    canvas[top : top + height, left : left + width] = digit
    return canvas.round().to(torch.uint8).unsqueeze(0)


def fit_square(image: Image.Image, side: int) -> torch.Tensor:
    """A colour picture as uint8 RGB ``(3, side, side)``: shorter side scaled to ``side``, centre kept.

    The aspect ratio is kept (nothing is squashed): the picture is resized so its shorter side is
    ``side`` pixels and the central ``side x side`` square is cut out, as torchvision's
    ``Resize(side)`` + ``CenterCrop(side)`` do.
    """
    pixels = TF.pil_to_tensor(on_white(image).convert("RGB"))
    return TF.center_crop(TF.resize(pixels, [side], antialias=True), [side, side])
