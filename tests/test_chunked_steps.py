"""ChunkedSteps trains exactly like ordinary batches, with fewer Lightning steps and every step hook."""

from __future__ import annotations

import lightning as L
import pytest
import torch
from torch.utils.data import DataLoader, TensorDataset

from litzoo.cli.lightning_cli import cli_main
from litzoo.models import Feedforward
from litzoo.models.tasks import ChunkedSteps, RegressionTask
from tests.conftest import CONFIGS, QUIET

SIZES = [
    "--data.init_args.train_size",
    "300",
    "--data.init_args.val_size",
    "100",
    "--data.init_args.test_size",
    "50",
]
CLIP = "--model.init_args.steps.init_args.gradient_clip_val"


class StepHookCounter(L.Callback):
    """Counts the per-optimizer-step hooks and records the gradient norm the last one sees."""

    def __init__(self) -> None:
        self.calls = {"on_before_backward": 0, "on_after_backward": 0, "on_before_optimizer_step": 0}
        self.grad_norms: list[float] = []

    def on_before_backward(self, trainer, pl_module, loss) -> None:
        self.calls["on_before_backward"] += 1

    def on_after_backward(self, trainer, pl_module) -> None:
        self.calls["on_after_backward"] += 1

    def on_before_optimizer_step(self, trainer, pl_module, optimizer) -> None:
        self.calls["on_before_optimizer_step"] += 1
        grads = [p.grad for p in pl_module.parameters() if p.grad is not None]
        self.grad_norms.append(torch.linalg.vector_norm(torch.stack([g.norm() for g in grads])).item())


LISTENER = ["--trainer.callbacks+=tests.test_chunked_steps.StepHookCounter"]


def fit(config: str, *extra: str):
    return cli_main(
        [
            "fit",
            "--config",
            str(CONFIGS / "regression" / config),
            "--trainer.max_epochs",
            "3",
            *SIZES,
            *QUIET,
            *extra,
        ]
    )


def weights(cli) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in cli.model.state_dict().items()}


def hook_counter(cli) -> StepHookCounter:
    # By name: the CLI imports this file as tests.test_chunked_steps, pytest under another name.
    return next(c for c in cli.trainer.callbacks if type(c).__name__ == StepHookCounter.__name__)


#: mlp.yaml trained the ordinary way: one Lightning step (and optimizer step) per loader batch of 64.
PER_BATCH = ["--model.init_args.steps", "null", "--data.init_args.batch_size", "64"]


@pytest.mark.parametrize(
    "scheduler",
    [
        [],
        [
            "--model.init_args.scheduler",
            "torch.optim.lr_scheduler.OneCycleLR",
            "--model.init_args.scheduler.max_lr",
            "0.02",
            "--model.init_args.scheduler_interval",
            "step",
        ],
        [
            "--model.init_args.scheduler",
            "torch.optim.lr_scheduler.StepLR",
            "--model.init_args.scheduler.step_size",
            "1",
        ],
    ],
    ids=["no-scheduler", "onecycle-per-step", "steplr-per-epoch"],
)
def test_whole_epoch_batches_with_chunks_equal_ordinary_batches(in_tmp_dir, scheduler):
    ordinary = fit("mlp.yaml", *PER_BATCH, *scheduler)
    chunked = fit("mlp.yaml", *scheduler)
    assert chunked.trainer.num_training_batches == 1  # one Lightning step per epoch ...
    assert ordinary.trainer.num_training_batches == 5  # ... instead of ceil(300 / 64) = 5
    # ... and the same number of optimizer steps, which Lightning counts as global steps.
    assert chunked.trainer.global_step == ordinary.trainer.global_step == 3 * 5
    assert chunked.model.automatic_optimization is False
    # No callback of the CLI's listens to the step hooks: the chunks take the direct path.
    assert chunked.model.steps.past_lightning
    for name, value in weights(ordinary).items():
        torch.testing.assert_close(weights(chunked)[name], value, rtol=1e-5, atol=1e-6)
    for tag in ("train/loss", "val/mse", "val/r2"):
        torch.testing.assert_close(
            chunked.trainer.callback_metrics[tag],
            ordinary.trainer.callback_metrics[tag],
            rtol=1e-5,  # float32 sums in another order (one 300-sample val batch vs. 64s)
            atol=1e-7,
        )
    lr = [cli.trainer.optimizers[0].param_groups[0]["lr"] for cli in (ordinary, chunked)]
    assert lr[0] == pytest.approx(lr[1])


def test_a_users_callback_sees_every_chunks_step_hooks(in_tmp_dir):
    """With a callback on the step hooks, each chunk goes through Lightning's manual_backward and
    LightningOptimizer.step: every hook once per optimizer step, the same training as the direct path."""
    direct = fit("mlp.yaml")
    observed = fit("mlp.yaml", *LISTENER)
    assert not observed.model.steps.past_lightning
    steps = observed.trainer.global_step
    assert steps == 3 * 5  # ceil(300 / 64) chunks per epoch
    assert hook_counter(observed).calls == dict.fromkeys(hook_counter(observed).calls, steps)
    for name, value in weights(direct).items():
        torch.testing.assert_close(weights(observed)[name], value, rtol=0, atol=0)


def test_chunks_clip_after_the_callbacks_saw_the_gradients(in_tmp_dir):
    """Clipping changes the training, identically on both paths, and (as in automatic optimization)
    a callback's on_before_optimizer_step still sees the unclipped gradients."""
    clip = "1e-3"
    unclipped = fit("mlp.yaml", "--trainer.max_epochs", "1")
    direct = fit("mlp.yaml", "--trainer.max_epochs", "1", CLIP, clip)
    observed = fit("mlp.yaml", "--trainer.max_epochs", "1", CLIP, clip, *LISTENER)
    moved = [
        (a - b).abs().max()
        for a, b in zip(weights(direct).values(), weights(unclipped).values(), strict=True)
    ]
    assert max(moved) > 0  # clipping changed the training
    for name, value in weights(direct).items():
        torch.testing.assert_close(weights(observed)[name], value, rtol=0, atol=0)
    assert min(hook_counter(observed).grad_norms) > float(clip)


def test_chunk_size_must_be_positive(in_tmp_dir):
    with pytest.raises(ValueError, match="chunk_size must be a positive number"):
        fit("mlp.yaml", "--model.init_args.steps.init_args.chunk_size", "0")


# --------------------------------------------------------------------------- run length
SAMPLES, BATCH, CHUNK = 100, 32, 8  # batches of 32, 32, 32 and 4 samples


@pytest.mark.parametrize(
    "drop_last, limit_train_batches",
    [(False, None), (True, None), (False, 2), (False, 0.5), (True, 3)],
    ids=["short-last-batch", "drop-last", "limit-2-batches", "limit-half", "drop-last-limit-3"],
)
def test_total_steps_are_the_optimizer_steps_the_run_takes(drop_last, limit_train_batches, tmp_path):
    """What a OneCycleLR gets as total_steps: the chunks of the batches the trainer really runs."""
    data = TensorDataset(torch.rand(SAMPLES, 1), torch.rand(SAMPLES, 1))
    loader = DataLoader(data, batch_size=BATCH, shuffle=True, drop_last=drop_last)
    steps = ChunkedSteps(chunk_size=CHUNK)
    trainer = L.Trainer(
        max_epochs=2,
        limit_train_batches=limit_train_batches,
        limit_val_batches=0,
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        default_root_dir=tmp_path,
    )
    trainer.fit(
        RegressionTask(net=Feedforward((1,), 1, depth=1, hidden_sizes=[]), steps=steps),
        train_dataloaders=loader,
    )
    assert trainer.global_step > 0
    assert steps.total_steps(trainer) == trainer.global_step


@pytest.mark.parametrize("max_steps", [7, 8, 13, 14], ids=lambda n: f"max_steps={n}")
def test_max_steps_ends_the_run_with_the_batch_that_reaches_it(max_steps, tmp_path):
    """13 optimizer steps per epoch in batches of 4, 4, 4 and 1: the trainer checks max_steps between
    loader batches, so 7 ends after 8 steps, 14 after 17."""
    loader = DataLoader(TensorDataset(torch.rand(SAMPLES, 1), torch.rand(SAMPLES, 1)), batch_size=BATCH)
    steps = ChunkedSteps(chunk_size=CHUNK)
    trainer = L.Trainer(
        max_epochs=5, max_steps=max_steps, logger=False, enable_progress_bar=False, default_root_dir=tmp_path
    )
    trainer.fit(
        RegressionTask(net=Feedforward((1,), 1, depth=1, hidden_sizes=[]), steps=steps),
        train_dataloaders=loader,
    )
    assert trainer.global_step >= max_steps
    assert steps.total_steps(trainer) == trainer.global_step
