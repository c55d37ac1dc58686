"""Save the images a run logged to TensorBoard as PNG files, exactly as TensorBoard shows them.

    python scripts/readme_figures.py lightning_logs/mnist/lenet5/version_0 \\
        --out docs/images --prefix mnist_dev_lenet5

For each tag (default: ``samples/train``, the grid of the first training batch, and
``confusion_matrix/test``, the test confusion matrix) the latest image in the run folder's event
files is written, byte for byte as stored there, to ``<out>/<prefix>_<tag, / as _>.png``. This is
how the README's pictures of real digits are made: from a run, not drawn by hand.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from tensorboard.backend.event_processing.event_accumulator import IMAGES, EventAccumulator

DEFAULT_TAGS = ("samples/train", "confusion_matrix/test")


def latest_images(run_dir: Path, tags: Sequence[str]) -> dict[str, bytes]:
    """The encoded (PNG) bytes of each tag's latest image in ``run_dir``'s event files."""
    events = EventAccumulator(str(run_dir), size_guidance={IMAGES: 0})  # 0: keep every image
    events.Reload()
    logged = events.Tags()[IMAGES]
    missing = [tag for tag in tags if tag not in logged]
    if missing:
        raise ValueError(
            f"{run_dir} has no image logged as {', '.join(missing)} (its image tags: "
            f"{', '.join(logged) or 'none'}). Pass a run folder of a fit (for confusion_matrix/test, a run "
            "that was also tested, as scripts/results.py does) or choose --tags among those."
        )
    return {tag: max(events.Images(tag), key=lambda image: image.step).encoded_image_string for tag in tags}


def main(argv: Sequence[str] | None = None) -> list[Path]:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("run_dir", type=Path, help="a run folder lightning_logs/<experiment>/version_N")
    parser.add_argument("--out", type=Path, default=Path("docs/images"), help="folder for the PNG files")
    parser.add_argument("--prefix", required=True, help="start of each file name, e.g. mnist_dev_lenet5")
    parser.add_argument("--tags", nargs="+", default=list(DEFAULT_TAGS), help="TensorBoard image tags")
    args = parser.parse_args(argv)
    if not args.run_dir.is_dir():
        parser.exit(2, f"readme_figures.py: error: {args.run_dir} is not a folder.\n")
    try:
        images = latest_images(args.run_dir, args.tags)
    except ValueError as error:
        parser.exit(2, f"readme_figures.py: error: {error}\n")
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
