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
    if class_path:
        tasks = ", ".join(name for name in litzoo.models.tasks.__all__ if name.endswith("Task"))
        raise ValueError(
            f"{checkpoint_path} was written by the task {class_path}, which this litzoo does not have "
            f"(its tasks: {tasks}). The checkpoint comes from another version of litzoo or was edited "
            "since: export it with the litzoo version that trained it."
        )
    raise ValueError(
        f"{checkpoint_path} does not say which task wrote it: there is no config.yaml in its run folder "
        "and its hyperparameters name no task class. Export a checkpoint written by the litzoo CLI, or "
        "load it in Python with the task's load_from_checkpoint and trace task.net yourself."
    )


def load_task(checkpoint_path: Path) -> TaskModule:
    """The task saved in ``checkpoint_path``, in eval mode.

    Every way the file fails to give back the net it records is a ``ValueError`` of one paragraph: not a
    complete checkpoint, NaN/inf weights (:func:`~litzoo.faults.check_checkpoint_readable`), a task or
    net class or argument this litzoo does not have, weights under other names or of other shapes.
    """
    checkpoint = check_checkpoint_readable(str(checkpoint_path))
    task_type = task_class(checkpoint_path, checkpoint.get("hyper_parameters", {}))
    try:
        task = task_type.load_from_checkpoint(checkpoint_path, map_location="cpu")
    except Exception as error:
        raise ValueError(
            f"Cannot rebuild the net that {checkpoint_path} records ({recorded_architecture(checkpoint)}): "
            f"{innermost_reason(error)}. The checkpoint was written by another version of litzoo or "
            "edited since. Export it with the litzoo version that trained it, or train it again with this one."
        ) from error
    return task.eval()


def recorded_architecture(checkpoint: dict) -> str:
    """``task X, net Y`` as the checkpoint's hyperparameters name them."""
    hparams = checkpoint.get("hyper_parameters") or {}
    net = hparams.get("net") or {}
    net_name = net.get("class_path", "?") if isinstance(net, dict) else type(net).__name__
    return f"task {hparams.get('_class_path', '?')}, net {net_name}"


def innermost_reason(error: BaseException) -> str:
    """The message of the innermost error under ``error`` on one line: jsonargparse wraps the cause
    ("Option 'bogus' is not accepted", "module 'litzoo.models' has no attribute 'Nope'") in screens
    of its own; torch's weight errors ("size mismatch for ...") are themselves the cause."""
    while (inner := error.__cause__ or error.__context__) is not None:
        error = inner
    return " ".join(str(error).split()).rstrip(".") or type(error).__name__


def max_abs_difference(net: nn.Module, run, input_shape: Sequence[int]) -> float:
    """Largest ``|run(x) - net(x)|`` over a seeded random batch ``x`` of ``CHECK_BATCH`` inputs."""
    batch = torch.randn(CHECK_BATCH, *input_shape, generator=torch.Generator().manual_seed(CHECK_SEED))
    with torch.no_grad():
        return (run(batch) - net(batch)).abs().max().item()


def check_net_output_finite(net: nn.Module, input_shape: Sequence[int]) -> None:
    """Refuse a net that computes NaN/inf on a random batch: weights out of any trained range (finite
    but huge after a flipped exponent bit) that no exported file could reproduce."""
    batch = torch.randn(CHECK_BATCH, *input_shape, generator=torch.Generator().manual_seed(CHECK_SEED))
    with torch.no_grad():
        finite = bool(torch.isfinite(net(batch)).all())
    if not finite:
        name, largest = largest_weight(net)
        raise ValueError(
            f"{type(net).__name__} computes NaN or inf on a random batch of {CHECK_BATCH}: its weights are "
            f"out of any trained range (largest |weight| {largest:.3g}, in {name}). The checkpoint is "
            "damaged (a flipped bit?) or from a diverged run. Nothing was written; export another "
            "checkpoint of the run (best-*.ckpt, last.ckpt)."
        )


def largest_weight(net: nn.Module) -> tuple[str, float]:
    """The name and size of the largest absolute value among ``net``'s parameters and buffers."""
    tensors = [(n, t) for n, t in net.state_dict().items() if t.is_floating_point() and t.numel()]
    sizes = [(n, t.abs().max().item()) for n, t in tensors]
    return max(sizes, key=lambda item: item[1], default=("no weight", 0.0))


def export_net(
    net: nn.Module, input_shape: Sequence[int], out: Path, format: str, method: str = "trace"
) -> float:
    """Write ``net`` (put in eval mode) to ``out`` in ``format``, check it, return the max abs difference.

    The file is written and checked in a temporary folder beside ``out`` and only then moved to
    ``out``, so a failed export or check leaves nothing behind. ``method`` (``trace``/``script``)
    applies to TorchScript only. A folder that cannot be written is an ``OSError`` naming it.
    """
    spec: ExportFormat = FORMATS[format]
    write = functools.partial(spec.write, method=method) if format == "torchscript" else spec.write
    net.eval()
    check_net_output_finite(net, input_shape)
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
                f"with {spec.runtime()}. Nothing was written; {failed_check_advice(net)}"
            )
        os.replace(written, out)
    return difference


#: A weight this large was not trained: nets of the zoo stay many orders of magnitude below it.
UNTRAINED_WEIGHT = 1e6


def failed_check_advice(net: nn.Module) -> str:
    """What to do after a failed check: another checkpoint when a weight is far out of any trained range
    (no format reproduces such a net exactly), else another format and a bug report."""
    name, largest = largest_weight(net)
    if largest > UNTRAINED_WEIGHT:
        return (
            f"the weight {name} of {type(net).__name__} holds {largest:.3g}, out of any trained range: "
            "the checkpoint is damaged (a flipped bit?) or from a diverged run. Export another checkpoint "
            "of the run (best-*.ckpt, last.ckpt)."
        )
    return "try another --format, and please report the architecture."


def export(checkpoint_path: Path, out: Path, format: str = DEFAULT_FORMAT, method: str = "trace") -> float:
    """Export ``checkpoint_path``'s net to ``out`` (see :func:`export_net`); return the checked difference."""
    task = load_task(checkpoint_path)
    return export_net(task.net, task.input_shape, out, format, method)


def chosen_format(format: str | None, out: Path | None) -> str:
    """``--format`` as given, else the one whose suffix ``-o`` has, else ONNX.

    A ``-o`` with the suffix of another format than ``--format`` is refused: the file would be read
    by the wrong runtime.
    """
    by_suffix = {spec.suffix: name for name, spec in FORMATS.items()}
    suffix = out.suffix.lower() if out else ""
    if format is None:
        return by_suffix.get(suffix, DEFAULT_FORMAT)
    named = by_suffix.get(suffix)
    if named is not None and named != format:
        raise ValueError(
            f"--format {format} writes {FORMATS[format].name}, but -o {out} has the suffix of "
            f"{FORMATS[named].name} files ({suffix}), so it would be read with the wrong runtime. Name the "
            f"file {out.with_suffix(FORMATS[format].suffix)}, or export {FORMATS[named].name} with "
            f"--format {named} (or drop --format: the suffix of -o picks it)."
        )
    return format


def output_problem(out: Path) -> str | None:
    """Why ``-o`` cannot be written, or None: a folder, or a folder the user cannot write into."""
    if out.is_dir():
        return (
            f"-o {out} is a folder; give the file to write, e.g. -o {out / 'model'}<suffix> "
            "(.onnx, .pt2 or .pt)."
        )
    existing = next((folder for folder in (out.parent, *out.parent.parents) if folder.exists()), None)
    if existing is not None and not existing.is_dir():
        return f"-o {out}: {existing} is a file, not a folder. Give -o a path in a folder."
    if existing is not None and not os.access(existing, os.W_OK | os.X_OK):
        return f"-o {out}: cannot write in the folder {existing} (permission denied). Give -o a path in a folder you can write to."
    return None


def write_problem(error: OSError, out: Path) -> str:
    """A failed write of ``out`` (full disk, read-only file system...) as one paragraph."""
    reason = error.strerror or " ".join(str(error).split())
    where = f" ({error.filename})" if error.filename else ""
    return (
        f"Cannot write {out}: {reason}{where}. Nothing was written. Give -o a path in a folder you can "
        "write to, with free space."
    )


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
    try:
        format = chosen_format(args.format, args.out)
    except ValueError as error:
        parser.exit(2, f"{parser.prog}: error: {error}\n")
    spec = FORMATS[format]
    out = args.out or args.checkpoint.with_suffix(spec.suffix)
    problem = output_problem(out)
    if problem is not None:
        parser.exit(2, f"{parser.prog}: error: {problem}\n")
    if format == "torchscript":
        print(TORCHSCRIPT_NOTE, file=sys.stderr)
    try:
        difference = export(args.checkpoint, out, format, args.method)
    except ValueError as error:
        parser.exit(2, f"{parser.prog}: error: {error}\n")
    except OSError as error:
        parser.exit(1, f"{parser.prog}: error: {write_problem(error, out)}\n")
    print(f"Wrote {out} ({spec.name}, batch dimension dynamic).")
    print(
        f"Checked with {spec.runtime()} on a batch of {CHECK_BATCH}: max abs difference from the "
        f"checkpoint's net {difference:.2e} (limit {MAX_ABS_DIFFERENCE:.0e})."
    )
    return out


if __name__ == "__main__":
    main(sys.argv[1:])
