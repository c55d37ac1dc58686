"""The GPU speed options on CPU: channels_last and compile change speed, never results or checkpoints."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from lightning.pytorch import Trainer

from litzoo.models import Feedforward, SimpleCNN
from litzoo.models.tasks import ClassificationTask, speed

INPUT_SHAPE = (3, 16, 16)
NUM_CLASSES = 10
BATCH = 8


def tiny_task(**options) -> ClassificationTask:
    torch.manual_seed(0)
    net = SimpleCNN(input_shape=INPUT_SHAPE, num_outputs=NUM_CLASSES, channels=(4, 8))
    return ClassificationTask(net, **options)


def batch() -> tuple[torch.Tensor, torch.Tensor]:
    generator = torch.Generator().manual_seed(1)
    images = torch.randn(BATCH, *INPUT_SHAPE, generator=generator)
    return images, torch.randint(0, NUM_CLASSES, (BATCH,), generator=generator)


def loss_and_grads(task: ClassificationTask) -> tuple[torch.Tensor, list[torch.Tensor]]:
    images, labels = batch()
    loss = task.loss(task(images), labels)
    loss.backward()
    return loss.detach(), [p.grad for p in task.parameters()]


def test_channels_last_changes_the_layout_not_the_results() -> None:
    plain, fast = tiny_task(), tiny_task(channels_last=True)
    conv_weight = next(p for p in fast.net.parameters() if p.dim() == 4)
    assert conv_weight.is_contiguous(memory_format=torch.channels_last)
    plain_loss, plain_grads = loss_and_grads(plain)
    fast_loss, fast_grads = loss_and_grads(fast)
    torch.testing.assert_close(fast_loss, plain_loss)
    for fast_grad, plain_grad in zip(fast_grads, plain_grads, strict=True):
        torch.testing.assert_close(fast_grad, plain_grad)


def test_channels_last_without_images_or_convolutions_is_ignored_with_a_warning() -> None:
    with pytest.warns(UserWarning, match="no Conv2d"):
        task = ClassificationTask(
            Feedforward(input_shape=INPUT_SHAPE, num_outputs=NUM_CLASSES, depth=1, hidden_sizes=[]),
            channels_last=True,
        )
    assert not task.channels_last
    with pytest.warns(UserWarning, match="image batches"):
        assert not speed.use_channels_last(SimpleCNN(INPUT_SHAPE, NUM_CLASSES), input_shape=(5, 7))


def test_compile_without_a_c_compiler_is_skipped_with_the_reason(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(speed.shutil, "which", lambda name: None)
    net = SimpleCNN(INPUT_SHAPE, NUM_CLASSES)
    with pytest.warns(UserWarning, match="needs a C compiler"):
        assert not speed.compile_net(net, torch.device("cpu"))
    assert net._compiled_call_impl is None


def test_compiled_net_gives_the_same_outputs_and_plain_checkpoints(tmp_path: Path) -> None:
    reason = speed.compile_unsupported_reason(torch.device("cpu"))
    if reason is not None:
        pytest.skip(f"torch.compile cannot run here: {reason}")
    task = tiny_task(compile=True)
    task.trainer = Trainer(accelerator="cpu", logger=False, enable_checkpointing=False)
    task.setup("fit")  # where the task compiles, knowing the device
    assert task.net._compiled_call_impl is not None
    images, _ = batch()
    with torch.no_grad():
        compiled = task(images)
        eager = task.net._call_impl(images)  # the same module, not compiled
    torch.testing.assert_close(compiled, eager)

    path = tmp_path / "compiled.ckpt"
    torch.save({"state_dict": task.state_dict()}, path)
    state = torch.load(path)["state_dict"]
    assert not [k for k in state if "_orig_mod" in k]
    plain = tiny_task()
    plain.load_state_dict(state)  # strict: same keys as a plain task
    with torch.no_grad():
        torch.testing.assert_close(plain(images), eager)
