"""`chunk_size` mode trains exactly like ordinary batches, only with fewer Lightning steps."""

from __future__ import annotations

import pytest
import torch

from litzoo.cli import cli_main
from tests.conftest import CONFIGS, QUIET

SIZES = [
    "--data.init_args.train_size",
    "300",
    "--data.init_args.val_size",
    "100",
    "--data.init_args.test_size",
    "50",
]


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
    ordinary = fit("mlp.yaml", *scheduler)
    chunked = fit("mlp_fast.yaml", *scheduler)
    assert chunked.trainer.num_training_batches == 1  # one Lightning step per epoch ...
    assert ordinary.trainer.num_training_batches == 5  # ... instead of ceil(300 / 64) = 5
    # ... and the same number of optimizer steps, which Lightning counts as global steps.
    assert chunked.trainer.global_step == ordinary.trainer.global_step == 3 * 5
    assert chunked.model.automatic_optimization is False
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


def test_chunk_mode_clips_gradients(in_tmp_dir):
    cli = fit("mlp_fast.yaml", "--model.init_args.gradient_clip_val", "1e-3", "--trainer.max_epochs", "1")
    reference = fit("mlp_fast.yaml", "--trainer.max_epochs", "1")
    moved = [
        (a - b).abs().max() for a, b in zip(weights(cli).values(), weights(reference).values(), strict=True)
    ]
    assert max(moved) > 0  # clipping changed the training


def test_chunk_size_must_be_positive(in_tmp_dir):
    with pytest.raises(ValueError, match="chunk_size must be a positive number"):
        fit("mlp_fast.yaml", "--model.init_args.chunk_size", "0")
