"""Export a checkpoint's net to TorchScript, for inference without litzoo or Lightning.

    python scripts/export.py lightning_logs/regression/mlp/version_0/checkpoints/last.ckpt -o mlp.pt
    python -c "import torch; net = torch.jit.load('mlp.pt'); print(net(torch.rand(5, 1)))"

The exported module is the architecture alone (``task.net``) in eval mode: it maps a batch of
inputs of the data's ``input_shape`` to the raw outputs (logits for classification). ``trace``
(default) records one forward pass on a dummy batch and works for every net in ``models/``;
``script`` compiles the Python code instead and keeps data-dependent control flow, but only
for TorchScript-compatible code. ONNX export would need the ``onnx`` package, not a dependency.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

import torch
import yaml

import models.tasks
from litzoo.faults.checkpoint_checks import check_checkpoint_readable
from models.tasks import TaskModule

TRACE_BATCH = 2


def task_class(checkpoint_path: Path, hparams: dict) -> type[TaskModule]:
    """The task that wrote the checkpoint: from the run's ``config.yaml``, else the class Lightning's CLI
    records in the hyperparameters (``_class_path``)."""
    config = checkpoint_path.parent.parent / "config.yaml"
    if config.is_file():
        class_path = yaml.safe_load(config.read_text()).get("model", {}).get("class_path", "")
    else:
        class_path = hparams.get("_class_path", "")
    found = getattr(models.tasks, class_path.rsplit(".", 1)[-1], None)
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


def export(checkpoint_path: Path, out: Path, method: str = "trace") -> torch.jit.ScriptModule:
    """Write ``checkpoint_path``'s net as TorchScript to ``out`` and return it."""
    task = load_task(checkpoint_path)
    with torch.no_grad():
        if method == "trace":
            exported = torch.jit.trace(task.net, torch.zeros(TRACE_BATCH, *task.input_shape))
        else:
            try:
                exported = torch.jit.script(task.net)
            except RuntimeError as error:  # TorchScript's compile errors are RuntimeErrors
                raise ValueError(
                    f"{type(task.net).__name__} cannot be compiled with torch.jit.script: "
                    f"{str(error).strip().splitlines()[0]} Export it with --method trace instead."
                ) from error
    out.parent.mkdir(parents=True, exist_ok=True)
    exported.save(str(out))
    return exported


def main(argv: Sequence[str] | None = None) -> Path:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("checkpoint", type=Path, help="a .ckpt file written by scripts/train.py")
    parser.add_argument(
        "-o", "--out", type=Path, help="output file (default: the checkpoint's name with .pt)"
    )
    parser.add_argument("--method", choices=("trace", "script"), default="trace")
    args = parser.parse_args(argv)
    if not args.checkpoint.is_file():
        parser.exit(2, f"export.py: error: checkpoint {args.checkpoint} does not exist.\n")
    out = args.out or args.checkpoint.with_suffix(".pt")
    try:
        export(args.checkpoint, out, args.method)
    except ValueError as error:
        parser.exit(2, f"export.py: error: {error}\n")
    print(f"Wrote {out}")
    return out


if __name__ == "__main__":
    main(sys.argv[1:])
