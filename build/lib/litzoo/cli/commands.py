"""The ``litzoo`` command: LightningCLI's ``fit``, ``validate``, ``test`` and ``predict``, and litzoo's
own ``sweep`` and ``export``, each started here with only the imports it needs."""

from __future__ import annotations

import sys

from litzoo.cli.user_errors import USER_ERRORS, exit_with_user_error

#: Every subcommand of ``litzoo``, for its top-level help: LightningCLI's four and litzoo's own two.
COMMANDS = {
    "fit": "train a model from a config (litzoo fit --config configs/mnist/lenet5.yaml)",
    "validate": "evaluate a checkpoint on the validation split",
    "test": "evaluate a checkpoint on the test split",
    "predict": "predict with a checkpoint (predictions.csv; your own images with predict_path)",
    "sweep": "hyperparameter search with Optuna (litzoo sweep --config ... --space ...)",
    "export": "export a checkpoint's net: litzoo export CKPT --format onnx|pt2|torchscript",
}


def top_level_help() -> str:
    """``litzoo --help``: every subcommand, one line each (LightningCLI's own help lists only its four)."""
    width = max(map(len, COMMANDS))
    lines = [
        f"usage: litzoo {{{','.join(COMMANDS)}}} ...",
        "",
        "The classic architectures of the PyTorch tutorials, trained with PyTorch Lightning.",
        "",
        "commands:",
        *(f"  {name:<{width}}  {text}" for name, text in COMMANDS.items()),
        "",
        "litzoo COMMAND --help shows a command's options.",
    ]
    return "\n".join(lines)


def main() -> None:
    """The ``litzoo`` command: ``sweep`` and ``export`` are litzoo's own, the rest LightningCLI's."""
    command, rest = (sys.argv[1:2] or [None])[0], sys.argv[2:]
    if command in (None, "-h", "--help"):
        print(top_level_help())
        sys.exit(0 if command else 2)
    if command == "sweep":
        from litzoo.sweeps.sweep import main as sweep_main  # imports Optuna, which only sweeps need

        sweep_main(rest)
        return
    if command == "export":
        from litzoo.export.command import main as export_main  # imports onnx and onnxruntime when asked for

        export_main(rest, prog="litzoo export")
        return
    from litzoo.cli.lightning_cli import cli_main

    try:
        cli_main()
    except (*USER_ERRORS, OSError) as error:
        exit_with_user_error(error)
