"""Export: every architecture of the zoo, in every format, computes what the net computes, at any batch size."""

from __future__ import annotations

import dataclasses
import errno
import functools
import io
import os
from pathlib import Path

import pytest
import torch
from torch import nn

from litzoo.cli.lightning_cli import cli_main
from litzoo.export.command import MAX_ABS_DIFFERENCE, export_net, load_task, main
from litzoo.export.formats import FORMATS, dynamic_batch, onnx_export_supported, quiet_recurrent_export
from tests.conftest import CONFIGS, QUIET, run_folders

TINY = ["--data.init_args.train_size", "64", "--data.init_args.val_size", "64", "--trainer.max_epochs", "1"]

#: Every architecture class, and every recurrent variant (cell, direction, head, sequence or image
#: input), built from a config exactly as the CLI builds it.
ARCHITECTURES: dict[str, tuple[str, ...]] = {
    "feedforward_regression": ("regression/mlp.yaml",),
    "feedforward_mnist": ("mnist/mlp.yaml",),
    "simple_cnn_separable": ("mnist/simple_cnn_fc.yaml", "--model.init_args.net.init_args.separable", "true"),
    "lenet5": ("mnist/lenet5.yaml",),
    "my_cnn": ("cifar10/my_cnn.yaml",),
    "vgg11_bn": ("cifar10/vgg11.yaml",),
    "alexnet": ("cifar10/simple_cnn.yaml", "--model.init_args.net", "litzoo.models.AlexNet"),
    "resnet18": ("cifar10/resnet18.yaml",),
    "resnet34": ("cifar10/resnet18.yaml", "--model.init_args.net", "litzoo.models.ResNet34"),
    "rnn_sequence": ("sequence/rnn.yaml",),
    "gru_sequence": ("sequence/gru.yaml",),
    "lstm_rows": ("mnist/lstm.yaml",),
    "lstm_attention_rows": ("mnist/lstm_attention.yaml",),
    "bidirectional_lstm_rows": ("mnist/birnn.yaml",),
    "handwritten_rnn_sequence": (
        "sequence/rnn.yaml",
        "--model.init_args.net",
        "litzoo.models.HandwrittenRNN",
    ),
}


def available(format: str) -> bool:
    if format != "onnx":
        return True
    try:
        import onnxruntime  # noqa: F401
        import onnxscript  # noqa: F401
    except ImportError:
        return False
    return onnx_export_supported()


FORMAT_PARAMS = [
    pytest.param(f, marks=pytest.mark.skipif(not available(f), reason="needs onnx, onnxscript, onnxruntime"))
    for f in FORMATS
]


#: Nets that read an LSTM's final hidden state (the ``last`` head).
READS_LSTM_STATE = ("lstm_rows", "bidirectional_lstm_rows")


@functools.cache
def lstm_state_traces_right() -> bool:
    """Whether ``torch.export`` gives a batch-first ``nn.LSTM``'s final state its real shape under a dynamic batch.

    torch 2.4 traces ``h_n`` as ``(layers, 1, batch, hidden)`` (the tensor computed is right, its
    traced shape is not), so a net reading ``h_n`` cannot be exported there; later releases trace it right.
    """

    class FinalState(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.lstm = nn.LSTM(3, 2, batch_first=True)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.lstm(x)[1][0]

    with quiet_recurrent_export():
        program = torch.export.export(FinalState(), (torch.zeros(2, 4, 3),), dynamic_shapes=dynamic_batch())
    (output,) = next(n for n in program.graph.nodes if n.op == "output").args[0]
    return output.meta["val"].dim() == 3


def built(config: str, *options: str) -> tuple[nn.Module, tuple[int, ...]]:
    """The config's net, as the CLI builds it from the data, and the input shape the data gives."""
    cli = cli_main(
        ["--config", str(CONFIGS / config), *options, "--trainer.logger", "false", *QUIET], run=False
    )
    return cli.model.net, tuple(cli.datamodule.input_shape)


def load(format: str, path: Path):
    return FORMATS[format].load(path)


@pytest.mark.slow  # about a minute of CPU for the whole zoo in three formats
@pytest.mark.parametrize("architecture", list(ARCHITECTURES))
@pytest.mark.parametrize("format", FORMAT_PARAMS)
def test_every_architecture_exports_in_every_format(architecture, format, tmp_path):
    if architecture in READS_LSTM_STATE and format != "torchscript" and not lstm_state_traces_right():
        pytest.xfail(f"torch {torch.__version__} traces nn.LSTM's final state with a wrong shape")
    net, input_shape = built(*ARCHITECTURES[architecture])
    out = tmp_path / f"net{FORMATS[format].suffix}"
    difference = export_net(net, input_shape, out, format)
    assert 0 <= difference <= MAX_ABS_DIFFERENCE
    assert [p.name for p in tmp_path.iterdir()] == [out.name]  # no temporary file left beside it
    # Read back here, independently of the export's own check, at two more batch sizes.
    run = load(format, out)
    for batch_size in (1, 7):
        x = torch.randn(batch_size, *input_shape)
        with torch.no_grad():
            torch.testing.assert_close(run(x), net(x), atol=MAX_ABS_DIFFERENCE, rtol=0)


@pytest.fixture
def regression_checkpoint(in_tmp_dir) -> Path:
    cli_main(["fit", "--config", str(CONFIGS / "regression" / "mlp.yaml"), *TINY, *QUIET])
    (run,) = run_folders(in_tmp_dir / "lightning_logs")
    return run / "checkpoints" / "last.ckpt"


@pytest.mark.parametrize("format", FORMAT_PARAMS)
def test_export_command_checks_and_prints_the_difference(regression_checkpoint, format, capsys):
    out = main(
        [str(regression_checkpoint), "--format", format, "-o", str(regression_checkpoint.parent / "net")]
    )
    printed = capsys.readouterr()
    assert f"Checked with {FORMATS[format].runtime()} on a batch of 5: max abs difference" in printed.out
    assert ("TorchScript is deprecated" in printed.err) == (format == "torchscript")
    task = load_task(regression_checkpoint)
    x = torch.rand(3, 1) + 0.05
    with torch.no_grad():
        torch.testing.assert_close(load(format, out)(x), task(x), atol=MAX_ABS_DIFFERENCE, rtol=0)


def test_output_suffix_picks_the_format(regression_checkpoint):
    out = main([str(regression_checkpoint), "-o", str(regression_checkpoint.parent / "net.pt2")])
    assert isinstance(torch.export.load(str(out)), torch.export.ExportedProgram)


def test_failed_check_leaves_no_file(regression_checkpoint, monkeypatch, capsys):
    spec = FORMATS["pt2"]
    off_by_one = dataclasses.replace(spec, load=lambda path: lambda x: spec.load(path)(x) + 1)
    monkeypatch.setitem(FORMATS, "pt2", off_by_one)
    out = regression_checkpoint.parent / "net.pt2"
    with pytest.raises(SystemExit):
        main([str(regression_checkpoint), "--format", "pt2", "-o", str(out)])
    assert "max abs difference 1 on a batch of 5" in capsys.readouterr().err
    assert sorted(p.name for p in out.parent.iterdir()) == sorted(
        p.name for p in regression_checkpoint.parent.glob("*.ckpt")
    )


def test_torchscript_script_failure_says_to_trace(regression_checkpoint, capsys):
    # The tutorial's DenseLayer looks its activation up in a dict, which TorchScript cannot compile.
    with pytest.raises(SystemExit):
        main([str(regression_checkpoint), "--format", "torchscript", "--method", "script"])
    assert "--method trace" in capsys.readouterr().err


def test_missing_checkpoint_is_a_clear_error(in_tmp_dir, capsys):
    with pytest.raises(SystemExit):
        main([str(in_tmp_dir / "nope.ckpt")])
    assert "does not exist" in capsys.readouterr().err


def test_truncated_checkpoint_is_a_clear_error(in_tmp_dir, capsys):
    """One paragraph naming the file and the fix, exit code 2, no traceback (issue 14, family 5)."""
    truncated = in_tmp_dir / "truncated.ckpt"
    buffer = io.BytesIO()
    torch.save({"state_dict": {"w": torch.zeros(1000)}}, buffer)
    truncated.write_bytes(buffer.getvalue()[: len(buffer.getvalue()) // 2])
    with pytest.raises(SystemExit) as exit_:
        main([str(truncated)])
    assert exit_.value.code == 2
    assert "Cannot read checkpoint" in capsys.readouterr().err
    assert not (in_tmp_dir / "truncated.pt").exists()


# ----------------------------------------------------------------- bad checkpoints and outputs (issue 28)
def edited_checkpoint(checkpoint: Path, edit) -> Path:
    """A copy of ``checkpoint`` beside it (no config.yaml names its task there), changed by ``edit``."""
    contents = torch.load(checkpoint, map_location="cpu", weights_only=False)
    edit(contents)
    copy = checkpoint.parent.parent.parent / "edited.ckpt"
    torch.save(contents, copy)
    return copy


def rename_first_weight(contents: dict) -> None:
    weights = contents["state_dict"]
    weights["net.layers.0.renamed"] = weights.pop("net.layers.0.weight")


def flip_exponent_bits(contents: dict) -> None:
    """One flipped exponent bit in every value of the first two weights: finite (near 1e38), but the
    net's outputs overflow."""
    for name in ("net.layers.0.weight", "net.layers.1.weight"):
        contents["state_dict"][name].view(torch.int32).bitwise_xor_(1 << 30)


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (
            lambda c: c["hyper_parameters"].__setitem__("_class_path", "litzoo.models.tasks.Renamed"),
            "was written by the task litzoo.models.tasks.Renamed, which this litzoo does not have",
        ),
        (
            lambda c: c["hyper_parameters"]["net"]["init_args"].__setitem__("extra", 3),
            "net litzoo.models.Feedforward): Option 'extra' is not accepted. The checkpoint was written",
        ),
        (
            lambda c: c["hyper_parameters"]["net"].__setitem__("class_path", "litzoo.models.Renamed"),
            "module 'litzoo.models' has no attribute 'Renamed'",
        ),
        (rename_first_weight, 'Unexpected key(s) in state_dict: "net.layers.0.renamed"'),
        (
            flip_exponent_bits,
            "computes NaN or inf on a random batch of 5: its weights are out of any trained",
        ),
    ],
    ids=["renamed_task", "extra_argument", "renamed_net", "renamed_weight", "bit_flipped"],
)
def test_a_damaged_checkpoint_is_one_paragraph_and_writes_nothing(
    regression_checkpoint, edit, expected, capsys
):
    damaged = edited_checkpoint(regression_checkpoint, edit)
    out = damaged.parent / "net.onnx"
    with pytest.raises(SystemExit) as exit_:
        main([str(damaged), "--format", "pt2", "-o", str(out.with_suffix(".pt2"))])
    assert exit_.value.code == 2
    error = capsys.readouterr().err
    assert expected in error and "Traceback" not in error and len(error.strip().splitlines()) == 1, error
    assert "please report the architecture" not in error
    assert not list(damaged.parent.glob("net*")) and not list(damaged.parent.glob(".net*"))


def test_format_and_suffix_that_disagree_are_refused(regression_checkpoint, capsys):
    out = regression_checkpoint.parent / "model.onnx"
    with pytest.raises(SystemExit) as exit_:
        main([str(regression_checkpoint), "--format", "torchscript", "-o", str(out)])
    assert exit_.value.code == 2
    assert f"--format torchscript writes TorchScript, but -o {out} has the suffix of ONNX files" in (
        capsys.readouterr().err
    )
    assert not out.exists()


def test_output_onto_a_folder_is_refused(regression_checkpoint, capsys):
    folder = regression_checkpoint.parent / "exported"
    folder.mkdir()
    with pytest.raises(SystemExit) as exit_:
        main([str(regression_checkpoint), "--format", "pt2", "-o", str(folder)])
    assert exit_.value.code == 2
    assert f"-o {folder} is a folder; give the file to write" in capsys.readouterr().err
    assert list(folder.iterdir()) == []


def test_a_refused_write_is_one_paragraph_and_leaves_no_file(regression_checkpoint, monkeypatch, capsys):
    """A read-only file system (simulated: the tests may run as root, who writes anywhere)."""

    def read_only(net, example, path):
        raise OSError(errno.EROFS, "Read-only file system", str(path))

    monkeypatch.setitem(FORMATS, "pt2", dataclasses.replace(FORMATS["pt2"], write=read_only))
    out = regression_checkpoint.parent / "net.pt2"
    with pytest.raises(SystemExit) as exit_:
        main([str(regression_checkpoint), "-o", str(out)])
    assert exit_.value.code == 1
    error = capsys.readouterr().err
    assert f"error: Cannot write {out}: Read-only file system" in error and "Traceback" not in error
    assert sorted(p.name for p in out.parent.iterdir()) == sorted(
        p.name for p in regression_checkpoint.parent.glob("*.ckpt")
    )


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_output_into_a_read_only_folder_is_refused(regression_checkpoint, capsys):
    folder = regression_checkpoint.parent / "locked"
    folder.mkdir(mode=0o555)
    with pytest.raises(SystemExit) as exit_:
        main([str(regression_checkpoint), "-o", str(folder / "net.pt2")])
    assert exit_.value.code == 2
    assert f"cannot write in the folder {folder} (permission denied)" in capsys.readouterr().err
