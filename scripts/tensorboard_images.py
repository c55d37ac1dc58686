"""Save the images runs logged to TensorBoard as PNG files, exactly as TensorBoard shows them.

    python scripts/tensorboard_images.py lightning_logs/mnist/lenet5/version_0 lightning_logs/mnist/lenet5/version_1 \\
        --out docs/images --prefix mnist_dev_lenet5

For each tag (default: ``samples/train``, the grid of the first training batch, and
``confusion_matrix/test``, the test confusion matrix), the latest image (by the time it was logged) in
the event files under the folders given, subfolders included, is written byte for byte as stored
there to ``<out>/<prefix>_<tag, / as _>.png``. Give the training run and its test run (or only the
training run where the test is filed inside it). ``scripts/readme_figures.py`` makes the README's
pictures of real digits this way: from runs, not drawn by hand.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path

from tensorboard.backend.event_processing.event_accumulator import IMAGES, EventAccumulator

DEFAULT_TAGS = ("samples/train", "confusion_matrix/test")


def event_folders(folders: Iterable[Path]) -> list[Path]:
    """Every folder under ``folders`` (themselves included) that holds TensorBoard event files, once each."""
    return sorted({events.parent.resolve() for f in folders for events in f.rglob("events.out.tfevents.*")})


def latest_images(folders: Sequence[Path], tags: Sequence[str]) -> dict[str, bytes]:
    """The encoded (PNG) bytes of each tag's latest image (by wall time) in the event files under ``folders``."""
    images: dict[str, list] = {}
    for folder in event_folders(folders):
        events = EventAccumulator(str(folder), size_guidance={IMAGES: 0})  # 0: keep every image
        events.Reload()
        for tag in events.Tags()[IMAGES]:
            images.setdefault(tag, []).extend(events.Images(tag))
    missing = [tag for tag in tags if tag not in images]
    if missing:
        raise ValueError(
            f"{', '.join(map(str, folders))}: no image logged as {', '.join(missing)} (their image tags: "
            f"{', '.join(sorted(images)) or 'none'}). Give the folder of a fit and, for confusion_matrix/test, "
            "that of its test run too, or choose --tags among those."
        )
    return {
        tag: max(images[tag], key=lambda image: (image.wall_time, image.step)).encoded_image_string
        for tag in tags
    }


def main(argv: Sequence[str] | None = None) -> list[Path]:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "runs", nargs="+", type=Path, help="run folders, lightning_logs/<experiment>/version_N"
    )
    parser.add_argument("--out", type=Path, default=Path("docs/images"), help="folder for the PNG files")
    parser.add_argument("--prefix", required=True, help="start of each file name, e.g. mnist_dev_lenet5")
    parser.add_argument("--tags", nargs="+", default=list(DEFAULT_TAGS), help="TensorBoard image tags")
    args = parser.parse_args(argv)
    not_folders = [str(run) for run in args.runs if not run.is_dir()]
    if not_folders:
        parser.error(
            f"{', '.join(not_folders)}: not a folder. Give run folders, lightning_logs/<experiment>/version_N."
        )
    try:
        images = latest_images(args.runs, args.tags)
    except ValueError as error:
        parser.error(str(error))
    args.out.mkdir(parents=True, exist_ok=True)
    written = []
    for tag, png in images.items():
        path = args.out / f"{args.prefix}_{tag.replace('/', '_')}.png"
        path.write_bytes(png)
        print(f"{tag} -> {path}")
        written.append(path)
    return written


if __name__ == "__main__":
    main(sys.argv[1:])
