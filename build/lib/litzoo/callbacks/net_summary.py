"""The model summary a litzoo run prints: the net's layers with their output shapes, not the task's metric objects."""

from __future__ import annotations

from typing import Any

import lightning as L
import torch
from lightning.pytorch.callbacks import ModelSummary
from lightning.pytorch.utilities.rank_zero import rank_zero_info
from torch import nn

BYTES_PER_MB = 1e6


CONTAINERS = (nn.Sequential, nn.ModuleList, nn.ModuleDict)


def listed_layers(module: nn.Module, depth: int, prefix: str = "") -> list[tuple[str, nn.Module]]:
    """``module``'s children down to ``depth`` levels; a plain container (``Sequential``...) is opened
    without counting as a level, so a net that keeps its layers in one shows the layers themselves."""
    listed = []
    for name, child in module.named_children():
        path = f"{prefix}{name}"
        if isinstance(child, CONTAINERS):
            listed += listed_layers(child, depth, f"{path}.")
        else:
            listed.append((path, child))
            if depth > 1:
                listed += listed_layers(child, depth - 1, f"{path}.")
    return listed


def layer_rows(net: nn.Module, example: torch.Tensor, max_depth: int) -> list[tuple[str, str, int, str]]:
    """``(name, type, parameters, output shape)`` for every layer of ``net`` down to ``max_depth``.

    The shapes come from one forward pass of ``example`` in eval mode without gradients, with forward
    hooks on the listed layers (a layer called several times shows its last call).
    """
    layers = listed_layers(net, max_depth)
    shapes: dict[str, str] = {}

    def record(name: str):
        def hook(_module: nn.Module, _args: Any, output: Any) -> None:
            first = output[0] if isinstance(output, tuple | list) else output
            shapes[name] = "x".join(map(str, first.shape)) if isinstance(first, torch.Tensor) else "-"

        return hook

    handles = [module.register_forward_hook(record(name)) for name, module in layers]
    was_training = net.training
    try:
        net.eval()
        with torch.no_grad():
            net(example)
    finally:
        net.train(was_training)
        for handle in handles:
            handle.remove()
    return [
        (name, type(m).__name__, sum(p.numel() for p in m.parameters()), shapes.get(name, "-"))
        for name, m in layers
    ]


def format_table(rows: list[tuple[str, str, int, str]]) -> str:
    header = ("layer", "type", "params", "output shape")
    cells = [header, *((name, kind, f"{params:,}", shape) for name, kind, params, shape in rows)]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    lines = [
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in cells
    ]
    lines.insert(1, "-" * len(lines[0]))
    return "\n".join(lines)


class NetSummary(ModelSummary):
    """Lightning's ``ModelSummary`` slot, filled with a table of the task's ``net`` only.

    Lightning summarises the whole LightningModule, whose metric objects (per split, and the running
    best) show as rows of ``?`` sizes; the architecture is what a user wants to see. The output shapes
    are those of the task's example input (two samples of the data's ``input_shape``). The CLI puts
    this in place of Lightning's summary, so ``trainer.enable_model_summary: false`` still turns it off.
    """

    def __init__(self, max_depth: int = 1, **kwargs: Any) -> None:
        super().__init__(max_depth=max_depth, **kwargs)
        self.depth = max_depth

    def on_fit_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        net = getattr(pl_module, "net", None)
        example = getattr(pl_module, "example_input_array", None)
        if not self.depth or net is None or not isinstance(example, torch.Tensor):
            super().on_fit_start(trainer, pl_module)
            return
        example = example.to(pl_module.device)
        rows = layer_rows(net, example, self.depth)
        parameters = list(net.parameters())
        total = sum(p.numel() for p in parameters)
        trainable = sum(p.numel() for p in parameters if p.requires_grad)
        size = sum(p.numel() * p.element_size() for p in parameters) / BYTES_PER_MB
        shape = "x".join(map(str, example.shape[1:]))
        rank_zero_info(
            f"{type(net).__name__} on {shape} inputs\n{format_table(rows)}\n"
            f"{total:,} parameters ({trainable:,} trainable), {size:.3g} MB"
        )
