"""Export a checkpoint's net for inference without litzoo or Lightning: ONNX, torch.export or TorchScript.

    litzoo export CKPT --format onnx -o lenet5.onnx        # onnxruntime, other runtimes
    litzoo export CKPT --format pt2 -o lenet5.pt2          # torch.export.load(...).module()
    litzoo export CKPT --format torchscript -o lenet5.pt   # torch.jit.load (deprecated)

(``python scripts/export.py ...`` is the same command, from a clone.)

The exported model is the architecture alone (``task.net``) in eval mode: it maps a batch of inputs
of the data's ``input_shape``, preprocessed as in training (normalized, padded), to the raw outputs
(logits for classification). Any batch size works. After writing, the file is read back by the
runtime named above and run on a random batch of another size than the export example's; the
largest absolute difference from the checkpoint's net is printed, and above 1e-4 the export fails
and leaves no file. Without ``--format`` the suffix of ``-o`` picks it (.onnx, .pt2, .pt), else ONNX.
"""

from __future__ import annotations

import argparse
import functools
import os
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

import torch
import yaml
from torch import nn

import litzoo.models.tasks
from litzoo.export.formats import FORMATS, TORCHSCRIPT_NOTE, ExportFormat
from litzoo.faults import check_checkpoint_readable
from litzoo.models.tasks import TaskModule

MAX_ABS_DIFFERENCE = 1e-4
#: The example input's batch; not 1, which torch.export would take for a constant.
EXAMPLE_BATCH = 2
#: The check's batch: another size than the example's, so it also shows the batch dimension is free.
CHECK_BATCH = 5
CHECK_SEED = 0
DEFAULT_FORMAT = "onnx"


def task_class(checkpoint_path: Path, hparams: dict) -> type[TaskModule]:
    """The task that wrote the checkpoint: from the run's ``config.yaml``, else the class Lightning's CLI
    records in the hyperparameters (``_class_path``)."""
    config = checkpoint_path.parent.parent / "config.yaml"
    if config.is_file():
        class_path = yaml.safe_load(config.read_text()).get("model", {}).get("class_path", "")
    else:
        class_path = hparams.get("_class_path", "")
    found = getattr(litzoo.models.tasks, class_path.rsplit(".", 1)[-1], None)
    if isinstance(found, type) and issubclass(found, TaskModule):
        return found
    raise ValueError(
        f"{checkpoint_path} does not say which task wrote it: there is no config.yaml in its run folder "
        "and its hyperparameters name no task class. Export a checkpoint written by the litzoo CLI, or "
        "load it in Python with the task's load_from_checkpoint and trace task.net yourself."
    )


def load_task(checkpoint_path: Path) -> TaskModule:
    """The task saved in ``checkpoint_path``; a file that is not a complete checkpoint is a ``ValueError``."""
    hparams = check_checkpoint_readable(str(checkpoint_path)).get("hyper_parameters", {})
    return (
        task_class(checkpoint_path, hparams).load_from_checkpoint(checkpoint_path, map_location="cpu").eval()
    )


def max_abs_difference(net: nn.Module, run, input_shape: Sequence[int]) -> float:
    """Largest ``|run(x) - net(x)|`` over a seeded random batch ``x`` of ``CHECK_BATCH`` inputs."""
    batch = torch.randn(CHECK_BATCH, *input_shape, generator=torch.Generator().manual_seed(CHECK_SEED))
    with torch.no_grad():
        return (run(batch) - net(batch)).abs().max().item()


def export_net(
    net: nn.Module, input_shape: Sequence[int], out: Path, format: str, method: str = "trace"
) -> float:
    """Write ``net`` (put in eval mode) to ``out`` in ``format``, check it, return the max abs difference.

    The file is written and checked in a temporary folder beside ``out`` and only then moved to
    ``out``, so a failed export or check leaves nothing behind. ``method`` (``trace``/``script``)
    applies to TorchScript only.
    """
    spec: ExportFormat = FORMATS[format]
    write = functools.partial(spec.write, method=method) if format == "torchscript" else spec.write
    net.eval()
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=out.parent, prefix=f".{out.name}.") as folder:
        written = Path(folder) / out.name
        with torch.no_grad():
            write(net, torch.zeros(EXAMPLE_BATCH, *input_shape), written)
        difference = max_abs_difference(net, spec.load(written), input_shape)
        if not difference <= MAX_ABS_DIFFERENCE:  # also refuses NaN
            raise ValueError(
                f"The {spec.name} export of {type(net).__name__} computes other outputs than the net: max "
                f"abs difference {difference:.3g} on a batch of {CHECK_BATCH} (limit {MAX_ABS_DIFFERENCE:g}) "
                f"with {spec.runtime()}. Nothing was written; try another --format, and please report "
                "the architecture."
            )
        os.replace(written, out)
    return difference


def export(checkpoint_path: Path, out: Path, format: str = DEFAULT_FORMAT, method: str = "trace") -> float:
    """Export ``checkpoint_path``'s net to ``out`` (see :func:`export_net`); return the checked difference."""
    task = load_task(checkpoint_path)
    return export_net(task.net, task.input_shape, out, format, method)


def chosen_format(format: str | None, out: Path | None) -> str:
    """``--format`` as given, else the one whose suffix ``-o`` has, else ONNX."""
    if format is not None:
        return format
    by_suffix = {spec.suffix: name for name, spec in FORMATS.items()}
    return by_suffix.get(out.suffix if out else "", DEFAULT_FORMAT)


def main(argv: Sequence[str] | None = None, prog: str | None = None) -> Path:
    """``litzoo export CKPT ...`` (``prog``: the command's name in its messages)."""
    parser = argparse.ArgumentParser(
        prog=prog, description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("checkpoint", type=Path, help="a .ckpt file written by a litzoo run")
    parser.add_argument("--format", choices=tuple(FORMATS), help="default: from the suffix of -o, else onnx")
    parser.add_argument(
        "-o", "--out", type=Path, help="output file (default: the checkpoint's name, new suffix)"
    )
    parser.add_argument(
        "--method", choices=("trace", "script"), default="trace", help="how TorchScript captures the net"
    )
    args = parser.parse_args(argv)
    if not args.checkpoint.is_file():
        parser.exit(2, f"{parser.prog}: error: checkpoint {args.checkpoint} does not exist.\n")
    format = chosen_format(args.format, args.out)
    spec = FORMATS[format]
    out = args.out or args.checkpoint.with_suffix(spec.suffix)
    if format == "torchscript":
        print(TORCHSCRIPT_NOTE, file=sys.stderr)
    try:
        difference = export(args.checkpoint, out, format, args.method)
    except (ValueError, FileNotFoundError) as error:
        parser.exit(2, f"{parser.prog}: error: {error}\n")
    print(f"Wrote {out} ({spec.name}, batch dimension dynamic).")
    print(
        f"Checked with {spec.runtime()} on a batch of {CHECK_BATCH}: max abs difference from the "
        f"checkpoint's net {difference:.2e} (limit {MAX_ABS_DIFFERENCE:.0e})."
    )
    return out


if __name__ == "__main__":
    main(sys.argv[1:])
