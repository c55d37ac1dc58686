"""Images per second of the CIFAR-10 training input pipeline: litzoo's batched path vs torchvision's PIL one.

litzoo: ``CIFAR10DataModule``'s train loader (whole batches gathered from the in-memory uint8
tensor) followed by its ``preprocess`` (per-image random crop + flip, scaling, normalization), the
code the Trainer runs. torchvision: ``datasets.CIFAR10`` with ``Compose([RandomCrop(32, padding=4),
RandomHorizontalFlip(), ToTensor(), Normalize(...)])`` through a ``DataLoader`` (one PIL image per
sample), with 0 and 2 worker processes. Both read the same files and time one full epoch; the
median of ``--repeats`` epochs is reported.

    python scripts/benchmark_augmentation.py --fake 2000          # synthetic CIFAR-format files
    python scripts/benchmark_augmentation.py --data_dir data/     # the real dataset
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import torch
import torchvision.datasets.cifar
from torch.utils.data import DataLoader
from torchvision import datasets, transforms

from litzoo.datamodules.cifar10 import CIFAR10_MEAN, CIFAR10_STD, CROP_PADDING, CIFAR10DataModule

REPO_ROOT = Path(__file__).resolve().parents[1]

BATCH_SIZE = 64
WORKER_COUNTS = (0, 2)


def images_per_second(run_epoch: Callable[[], int], repeats: int) -> float:
    """Median over ``repeats`` epochs of images processed per second (one untimed warm-up epoch first)."""
    run_epoch()
    rates = []
    for _ in range(repeats):
        start = time.perf_counter()
        count = run_epoch()
        rates.append(count / (time.perf_counter() - start))
    return statistics.median(rates)


def batched_epoch(datamodule: CIFAR10DataModule, device: torch.device) -> Callable[[], int]:
    def run() -> int:
        count = 0
        for images, _labels in datamodule.loader("train", shuffle=True, raw=True):
            batch = datamodule.preprocess(images.to(device), train=True)
            count += len(batch)
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        return count

    return run


def pil_epoch(data_dir: Path, num_workers: int) -> Callable[[], int]:
    pipeline = transforms.Compose(
        [
            transforms.RandomCrop(32, padding=CROP_PADDING),
            transforms.RandomHorizontalFlip(),
            transforms.ToTensor(),
            transforms.Normalize(CIFAR10_MEAN, CIFAR10_STD),
        ]
    )
    dataset = datasets.CIFAR10(data_dir, train=True, transform=pipeline)
    loader = DataLoader(dataset, batch_size=BATCH_SIZE, shuffle=True, num_workers=num_workers)

    def run() -> int:
        return sum(len(images) for images, _ in loader)

    return run


def accept_fake_md5() -> None:
    """Synthetic files cannot match the real md5 sums: check only that each file exists."""
    torchvision.datasets.cifar.check_integrity = lambda path, md5=None: Path(path).is_file()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--data_dir", type=Path, help="folder holding cifar-10-batches-py/")
    source.add_argument(
        "--fake", type=int, metavar="N", help="write synthetic files with N images per batch file"
    )
    parser.add_argument("--repeats", type=int, default=3, help="timed epochs per pipeline (median reported)")
    parser.add_argument("--device", default="cpu", help="where litzoo's batched path runs (cpu, cuda)")
    parser.add_argument("--markdown", type=Path, help="also write the table to this markdown file")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory() as tmp:
        data_dir = args.data_dir
        if args.fake is not None:
            from litzoo.dataset_files import write_cifar10

            data_dir = write_cifar10(Path(tmp), n_per_batch=args.fake, n_test=BATCH_SIZE)
            accept_fake_md5()
        datamodule = CIFAR10DataModule(data_dir, download=False, batch_size=BATCH_SIZE, val_size=1)
        datamodule.setup("fit")
        device = torch.device(args.device)
        rows = [
            (
                f"litzoo batched ({device.type}, 0 workers)",
                images_per_second(batched_epoch(datamodule, device), args.repeats),
            )
        ]
        for workers in WORKER_COUNTS:
            rate = images_per_second(pil_epoch(data_dir, workers), args.repeats)
            rows.append((f"torchvision PIL transforms ({workers} workers)", rate))

    batched = rows[0][1]
    lines = [
        f"CIFAR-10 training pipeline, batch {BATCH_SIZE}, {len(datamodule.splits['train'])} images per epoch, "
        f"median of {args.repeats} epochs, {torch.get_num_threads()} torch threads",
        "",
        "| pipeline | images/s | batched speed-up |",
        "|---|---:|---:|",
        *(f"| {name} | {rate:,.0f} | {batched / rate:.1f}x |" for name, rate in rows),
    ]
    table = "\n".join(lines)
    print(table)
    if args.markdown is not None:
        args.markdown.write_text(table + "\n")


if __name__ == "__main__":
    main()
