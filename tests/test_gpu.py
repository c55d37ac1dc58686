"""The GPU path on a real CUDA GPU: bf16, channels_last, torch.compile, augmentation on the device, DDP,
the GPU presets and scripts/gpu_utilization.py.

Every test here is marked ``gpu``: skipped, with the reason, where ``torch.cuda.device_count() == 0``
(tests/conftest.py), and run with ``pytest -m gpu`` on a machine with a GPU. Each trains through the
litzoo CLI on the tiny MNIST / CIFAR-10 files of the conftest fixtures and checks what would break
with its feature. Results are compared with tolerances, never with fixed numbers: GPU kernels are
not bit-reproducible.
"""

from __future__ import annotations

import copy
import csv
import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from lightning.pytorch import Callback, LightningModule, Trainer
from torch import nn

import litzoo.datamodules.cifar10
from litzoo.cli.lightning_cli import LitzooCLI, cli_main
from litzoo.models.tasks import speed
from scripts import gpu_utilization
from tests.conftest import CONFIGS, QUIET, REPO_ROOT, run_folders
from tests.test_gpu_utilization import table_rows

pytestmark = pytest.mark.gpu

SIMPLE_CNN = CONFIGS / "cifar10" / "simple_cnn.yaml"
RESNET18_FAST = CONFIGS / "cifar10" / "resnet18_fast.yaml"
GPU_PRESET = CONFIGS / "trainer" / "gpu.yaml"
DDP_PRESET = CONFIGS / "trainer" / "ddp.yaml"
ON_ONE_GPU = ["--trainer.accelerator", "gpu", "--trainer.devices", "1"]
EPOCHS = 2
# The fixtures' 500 training images (CIFAR-10) or 600 (MNIST) minus VAL_SIZE, in batches of BATCH.
VAL_SIZE, BATCH = 100, 100
CIFAR_TRAIN_IMAGES = 500 - VAL_SIZE
PROBE_FILE = "step_probe.json"


class StepProbe(Callback):
    """Writes to ``step_probe.json`` what the first training step's first convolution ran with: the
    device and memory format of its input, its weight's memory format, whether autocast was on and the
    dtype of its output, and the strategy, backend and world size around it.

    A forward hook on the convolution, removed after its first call, sees the step exactly as the
    task runs it (inside Lightning's precision context and, under DDP, inside the wrapped model). The
    facts go to a file so that a run in another process reports them the same way.
    """

    def on_train_start(self, trainer: Trainer, pl_module: LightningModule) -> None:
        self._trainer = trainer
        conv = next(m for m in pl_module.modules() if isinstance(m, nn.Conv2d))
        self._handle = conv.register_forward_hook(self.record)

    def record(self, conv: nn.Conv2d, inputs: tuple[torch.Tensor, ...], output: torch.Tensor) -> None:
        self._handle.remove()
        (x,) = inputs
        distributed = torch.distributed.is_initialized()
        facts = {
            "input_device": str(x.device),
            "input_channels_last": x.is_contiguous(memory_format=torch.channels_last),
            "weight_channels_last": conv.weight.is_contiguous(memory_format=torch.channels_last),
            "autocast": torch.is_autocast_enabled("cuda"),
            "output_dtype": str(output.dtype),
            "strategy": type(self._trainer.strategy).__name__,
            "backend": torch.distributed.get_backend() if distributed else None,
            "world_size": self._trainer.world_size,
        }
        Path(PROBE_FILE).write_text(json.dumps(facts))


PROBE = f"--trainer.callbacks+={StepProbe.__module__}.StepProbe"  # this very class, as pytest loaded it


def probed(folder: Path = Path()) -> dict:
    return json.loads((folder / PROBE_FILE).read_text())


def data_args(data_dir: Path) -> list[str]:
    return [
        "--data.init_args.data_dir", str(data_dir), "--data.init_args.download", "false",
        "--data.init_args.val_size", str(VAL_SIZE), "--data.init_args.batch_size", str(BATCH),
        "--trainer.max_epochs", str(EPOCHS), *QUIET,
    ]  # fmt: skip


def fit(configs: list[Path], data_dir: Path, *options: str) -> LitzooCLI:
    config_args = [arg for path in configs for arg in ("--config", str(path))]
    return cli_main(["fit", *config_args, *data_args(data_dir), *ON_ONE_GPU, *options])


def assert_trained_on_the_gpu(cli: LitzooCLI) -> None:
    """Every epoch ran on CUDA, gave finite metrics and left a best and a last checkpoint."""
    trainer = cli.trainer
    assert trainer.strategy.root_device.type == "cuda"
    assert trainer.current_epoch == EPOCHS
    for tag in ("train/loss", "val/loss", "val/acc"):
        assert math.isfinite(trainer.callback_metrics[tag].item()), tag
    best = Path(trainer.checkpoint_callback.best_model_path)
    assert best.is_file(), "no best checkpoint written"
    assert (best.parent / "last.ckpt").is_file()


def val_images(cli: LitzooCLI) -> torch.Tensor:
    """One validation batch, preprocessed on the GPU as the model reads it."""
    images, _ = next(iter(cli.datamodule.val_dataloader()))
    return cli.datamodule.preprocess(images.to(cli.model.device), train=False)


@pytest.fixture
def exact_fp32_convolutions(monkeypatch: pytest.MonkeyPatch) -> None:
    """cuDNN convolutions in full fp32, not TF32 (PyTorch's default for them), so that two layouts or
    kernels of one net differ by rounding only. (fp32 matmuls are not TF32 by default.)"""
    monkeypatch.setattr(torch.backends.cudnn, "allow_tf32", False)


def test_bf16_mixed_computes_in_bf16_and_keeps_fp32_weights(cifar10_dir, in_tmp_dir):
    cli = fit([SIMPLE_CNN], cifar10_dir, "--trainer.precision", "bf16-mixed", PROBE)
    assert_trained_on_the_gpu(cli)
    step = probed()
    assert step["input_device"].startswith("cuda")
    assert step["autocast"] and step["output_dtype"] == "torch.bfloat16"
    checkpoint = torch.load(
        cli.trainer.checkpoint_callback.best_model_path, map_location="cpu", weights_only=False
    )
    floats = {name: v.dtype for name, v in checkpoint["state_dict"].items() if v.is_floating_point()}
    assert floats and set(floats.values()) == {torch.float32}, "mixed precision keeps fp32 master weights"


def test_channels_last_on_cuda_changes_the_layout_not_the_outputs(
    cifar10_dir, in_tmp_dir, exact_fp32_convolutions
):
    cli = fit([SIMPLE_CNN], cifar10_dir, "--model.init_args.channels_last", "true", PROBE)
    assert_trained_on_the_gpu(cli)
    step = probed()
    assert step["input_channels_last"] and step["weight_channels_last"]
    weights = [p for p in cli.model.net.parameters() if p.dim() == 4]
    assert weights and all(p.is_cuda and p.is_contiguous(memory_format=torch.channels_last) for p in weights)

    task = cli.model.eval()
    plain = copy.deepcopy(task.net).to(memory_format=torch.contiguous_format)
    images = val_images(cli)
    with torch.no_grad():
        torch.testing.assert_close(task(images), plain(images.contiguous()), rtol=1e-4, atol=1e-4)


def test_compile_on_cuda_trains_and_matches_the_eager_net(cifar10_dir, in_tmp_dir, exact_fp32_convolutions):
    reason = speed.compile_unsupported_reason(torch.device("cuda"))
    if reason is not None:
        pytest.skip(f"torch.compile cannot run here: {reason}")
    cli = fit([SIMPLE_CNN], cifar10_dir, "--model.init_args.compile", "true")
    assert_trained_on_the_gpu(cli)
    task = cli.model.eval()
    assert task.net._compiled_call_impl is not None, "the net was not compiled"
    images = val_images(cli)
    with torch.no_grad():
        torch.testing.assert_close(task(images), task.net._call_impl(images), rtol=1e-3, atol=1e-3)
    checkpoint = torch.load(
        cli.trainer.checkpoint_callback.best_model_path, map_location="cpu", weights_only=False
    )
    assert not [key for key in checkpoint["state_dict"] if "_orig_mod" in key]


def test_training_batches_are_augmented_on_the_gpu_as_uint8(cifar10_dir, in_tmp_dir, monkeypatch):
    augmented: list[tuple[str, torch.dtype, int]] = []
    original = litzoo.datamodules.cifar10.random_crop_flip

    def spy(images: torch.Tensor, padding: int) -> torch.Tensor:
        augmented.append((images.device.type, images.dtype, len(images)))
        return original(images, padding)

    monkeypatch.setattr(litzoo.datamodules.cifar10, "random_crop_flip", spy)
    cli = fit([SIMPLE_CNN], cifar10_dir)
    assert_trained_on_the_gpu(cli)
    assert {(device, dtype) for device, dtype, _ in augmented} == {("cuda", torch.uint8)}
    # Every training image once per epoch; validation (and the sanity check) never.
    assert sum(n for *_, n in augmented) == EPOCHS * CIFAR_TRAIN_IMAGES


def test_ddp_on_one_gpu_trains_with_nccl(mnist_dir, tmp_path):
    """``--config configs/trainer/ddp.yaml --trainer.devices 1``: the DDP strategy on one GPU.

    Run as the ``litzoo`` command in its own process: DDP leaves a process group and launcher
    variables (``LOCAL_RANK``, ``WORLD_SIZE``...) behind in the process that ran it.
    """
    command = [
        sys.executable, "-m", "litzoo", "fit", "--config", str(CONFIGS / "mnist" / "simple_cnn.yaml"),
        "--config", str(DDP_PRESET), "--trainer.devices", "1", *data_args(mnist_dir),
        "--trainer.callbacks+=tests.test_gpu.StepProbe",
    ]  # fmt: skip
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    result = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, f"{' '.join(command)}\n{result.stdout[-3000:]}\n{result.stderr[-5000:]}"
    step = probed(tmp_path)
    assert (step["strategy"], step["backend"], step["world_size"]) == ("DDPStrategy", "nccl", 1)
    assert step["input_device"] == "cuda:0"
    assert step["autocast"] and step["output_dtype"] == "torch.bfloat16"  # the preset's bf16-mixed
    (run,) = run_folders(tmp_path / "lightning_logs")
    assert list(run.rglob("best-*.ckpt")) and (run / "checkpoints" / "last.ckpt").is_file()
    with (run / "metrics.csv").open(newline="") as file:
        val_acc = [float(row["val/acc"]) for row in csv.DictReader(file) if row.get("val/acc")]
    assert len(val_acc) == EPOCHS and all(math.isfinite(v) for v in val_acc)


def test_resnet18_fast_recipe_with_the_gpu_preset(cifar10_dir, in_tmp_dir):
    """configs/cifar10/resnet18_fast.yaml + configs/trainer/gpu.yaml, as the README runs it (smaller
    batches for the tiny dataset): bf16 autocast, channels_last weights and batches, on CUDA."""
    cli = cli_main(
        ["fit", "--config", str(RESNET18_FAST), "--config", str(GPU_PRESET), *data_args(cifar10_dir), PROBE]
    )
    assert_trained_on_the_gpu(cli)
    assert cli.trainer.precision == "bf16-mixed"
    step = probed()
    assert step["input_device"].startswith("cuda")
    assert step["autocast"] and step["output_dtype"] == "torch.bfloat16"
    assert step["input_channels_last"] and step["weight_channels_last"]


def test_gpu_utilization_script_measures_a_fit(in_tmp_dir):
    out = in_tmp_dir / "results" / "gpu.md"
    fit_args = [
        "--config", str(RESNET18_FAST), "--config", str(GPU_PRESET), "--trainer.max_epochs", "3",
        "--data.init_args.val_size", "200", "--data.init_args.batch_size", "128", *QUIET,
    ]  # fmt: skip
    assert gpu_utilization.main(["--fake", "200", "--out", str(out), "--", *fit_args]) == 0
    table = out.read_text()
    assert torch.cuda.get_device_name(0) in table
    rows = table_rows(table)
    assert float(rows["train images/s, epochs 2-3"].replace(",", "")) > 0
    busy = rows["GPU busy over the whole fit (start-up, validation and checkpoints included)"]
    assert 0 <= float(busy.removesuffix("%")) <= 100
    assert float(rows["peak memory allocated by PyTorch"].removesuffix(" GiB")) > 0
    assert len(run_folders(in_tmp_dir / "lightning_logs")) == 1
