"""How a net is written in each export format, and how the file is read back to check it.

Every format gets an example batch whose batch dimension is marked dynamic (ONNX, ``torch.export``)
or traced through shape operations (TorchScript), so the file accepts any batch size.
"""

from __future__ import annotations

import inspect
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import torch
from torch import nn

Runner = Callable[[torch.Tensor], torch.Tensor]

#: The names the ONNX graph gives its input and output, for ``session.run(None, {"input": x})``.
ONNX_INPUT, ONNX_OUTPUT = "input", "output"
INSTALL_EXPORT_EXTRA = 'pip install "litzoo[export]"  (onnx, onnxscript, onnxruntime)'
TORCHSCRIPT_NOTE = (
    "note: TorchScript is deprecated in PyTorch (torch.jit.trace and torch.jit.script warn so) in "
    "favour of torch.export: prefer --format pt2, or --format onnx for other runtimes. litzoo keeps "
    "TorchScript export only while PyTorch still ships torch.jit."
)


def dynamic_batch() -> tuple[dict[int, torch.export.Dim], ...]:
    """``dynamic_shapes`` for a net with one input whose dimension 0 is the batch."""
    return ({0: torch.export.Dim("batch")},)


@contextmanager
def quiet_recurrent_export() -> Iterator[None]:
    """Silence torch's warning that ``nn.RNN``/``nn.LSTM``/``nn.GRU`` assign ``_flat_weights`` during export.

    torch.export traces the layers' own ``_flat_weights`` bookkeeping and warns about it for every
    recurrent net; the exported program computes the same outputs (the check after export shows it).
    """
    with warnings.catch_warnings():
        warnings.filterwarnings(
            "ignore", message=r"The tensor attributes .*_flat_weights", category=UserWarning
        )
        yield


def package_version(name: str) -> str:
    try:
        return version(name)
    except PackageNotFoundError:
        return "?"


# ---------------------------------------------------------------------------------------------- ONNX
def onnx_export_supported() -> bool:
    """Whether this torch has the ``torch.export``-based ONNX exporter (``dynamo=True, dynamic_shapes``)."""
    return "dynamic_shapes" in inspect.signature(torch.onnx.export).parameters


def write_onnx(net: nn.Module, example: torch.Tensor, path: Path) -> None:
    """ONNX through ``torch.onnx.export(dynamo=True)``: ``torch.export`` first, then the ONNX translation."""
    if not onnx_export_supported():
        raise ValueError(
            f"torch {torch.__version__} has no torch.export-based ONNX exporter "
            "(torch.onnx.export(..., dynamo=True, dynamic_shapes=...)). Upgrade torch, or export with "
            "--format pt2 or --format torchscript."
        )
    try:
        import onnxscript  # noqa: F401  (the exporter needs it; fail here with the fix)
    except ImportError as error:
        raise ValueError(
            f"ONNX export needs the onnx and onnxscript packages: {INSTALL_EXPORT_EXTRA}."
        ) from error
    with quiet_recurrent_export():
        program = torch.onnx.export(
            net,
            (example,),
            dynamo=True,
            dynamic_shapes=dynamic_batch(),
            input_names=[ONNX_INPUT],
            output_names=[ONNX_OUTPUT],
            verbose=False,  # no progress lines: the command prints what it wrote and the check
        )
    program.save(str(path))  # weights inside the file (separate data files only above ONNX's 2 GB)


def load_onnx(path: Path) -> Runner:
    try:
        import onnxruntime
    except ImportError as error:
        raise ValueError(f"Checking an ONNX export needs onnxruntime: {INSTALL_EXPORT_EXTRA}.") from error
    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    name = session.get_inputs()[0].name
    return lambda x: torch.from_numpy(session.run(None, {name: x.numpy()})[0])


# ----------------------------------------------------------------------------------- torch.export (pt2)
def write_pt2(net: nn.Module, example: torch.Tensor, path: Path) -> None:
    with quiet_recurrent_export():
        program = torch.export.export(net, (example,), dynamic_shapes=dynamic_batch())
    torch.export.save(program, str(path))


def load_pt2(path: Path) -> Runner:
    return torch.export.load(str(path)).module()


# ----------------------------------------------------------------------------------------- TorchScript
def write_torchscript(net: nn.Module, example: torch.Tensor, path: Path, method: str = "trace") -> None:
    """``torch.jit.trace`` (one forward pass on ``example``) or ``torch.jit.script`` (the Python code)."""
    if not hasattr(torch.jit, method):
        raise ValueError(
            f"torch {torch.__version__} no longer ships torch.jit.{method}: export with --format pt2 or onnx."
        )
    with warnings.catch_warnings():
        # torch's own deprecation warnings (a FutureWarning or DeprecationWarning, by release); the
        # command prints TORCHSCRIPT_NOTE instead.
        warnings.filterwarnings("ignore", message=r"`torch\.jit\.\w+` is deprecated")
        if method == "trace":
            exported = torch.jit.trace(net, example)
        else:
            try:
                exported = torch.jit.script(net)
            except RuntimeError as error:  # TorchScript's compile errors are RuntimeErrors
                raise ValueError(
                    f"{type(net).__name__} cannot be compiled with torch.jit.script: "
                    f"{str(error).strip().splitlines()[0]} Export it with --method trace instead."
                ) from error
    exported.save(str(path))


def load_torchscript(path: Path) -> Runner:
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r"`torch\.jit\.\w+` is deprecated")
        return torch.jit.load(str(path))


@dataclass(frozen=True)
class ExportFormat:
    """One ``--format``: its file suffix, how it is written and read back, and what reads it."""

    name: str
    suffix: str
    write: Callable[..., None]
    load: Callable[[Path], Runner]
    runtime: Callable[[], str]


FORMATS: dict[str, ExportFormat] = {
    "onnx": ExportFormat(
        "ONNX", ".onnx", write_onnx, load_onnx, lambda: f"onnxruntime {package_version('onnxruntime')}"
    ),
    "pt2": ExportFormat(
        "torch.export", ".pt2", write_pt2, load_pt2, lambda: f"torch.export.load (torch {torch.__version__})"
    ),
    "torchscript": ExportFormat(
        "TorchScript",
        ".pt",
        write_torchscript,
        load_torchscript,
        lambda: f"torch.jit.load (torch {torch.__version__})",
    ),
}
