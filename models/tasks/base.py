"""What every task shares: the wrapped net, one step for all splits, optimizer and scheduler wiring."""

from __future__ import annotations

import inspect
import pydoc
from collections.abc import MutableMapping, Sequence
from typing import Any, Literal

import lightning as L
import torch
from lightning.pytorch.cli import LRSchedulerCallable, OptimizerCallable
from torch import nn
from torchmetrics import MaxMetric, MeanMetric, MetricCollection, MinMetric

Split = Literal["train", "val", "test"]
SPLITS: tuple[Split, ...] = ("train", "val", "test")


def _drop_link_values_the_net_does_not_take(hparams: MutableMapping[str, Any]) -> None:
    """Remove data-linked values from the stored net config that the net's class does not accept.

    The CLI links ``input_shape``, ``num_classes``, ``output_size``... into every net; jsonargparse
    skips a link whose parameter the chosen net lacks, but Lightning still records the value in the
    checkpoint's hyperparameters, and ``load_from_checkpoint`` would then fail on the unknown key.
    """
    net = hparams.get("net")
    if not isinstance(net, MutableMapping) or not isinstance(net.get("init_args"), MutableMapping):
        return
    net_class = pydoc.locate(net.get("class_path", ""))
    if not inspect.isclass(net_class):
        return
    parameters = inspect.signature(net_class).parameters
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values()):
        return
    net["init_args"] = {k: v for k, v in net["init_args"].items() if k in parameters}


class TaskModule(L.LightningModule):
    """Base of the task LightningModules: wraps any ``net`` and owns loss, metrics and optimisation.

    Subclasses set :attr:`best_metric` / :attr:`best_mode` (the metric the run is judged by, logged
    as ``val/<metric>`` and its running best ``val/<metric>_best``) and implement :meth:`loss` and
    :meth:`make_metrics`. Metrics are separate torchmetrics objects per split, logged as objects so
    Lightning computes them exactly over the epoch and syncs them across DDP ranks.

    Args:
        net: The architecture, any ``nn.Module`` (``class_path``/``init_args`` in YAML).
        optimizer: Builds the optimizer from the parameters (``torch.optim.Adam`` by default).
        scheduler: Builds an LR scheduler from the optimizer, or ``None``. ``OneCycleLR`` gets its
            ``total_steps`` from the trainer; ``ReduceLROnPlateau`` monitors :attr:`monitor`.
        scheduler_interval: Step the scheduler every ``epoch`` or every optimizer ``step``.
        input_shape: Shape of one input sample, linked from the datamodule; gives the model summary
            an example input so it prints each layer's input and output sizes.
    """

    best_metric: str
    best_mode: Literal["min", "max"]

    def __init__(
        self,
        net: nn.Module,
        optimizer: OptimizerCallable = torch.optim.Adam,
        scheduler: LRSchedulerCallable | None = None,
        scheduler_interval: Literal["epoch", "step"] = "epoch",
        input_shape: Sequence[int] | None = None,
    ) -> None:
        super().__init__()
        # Built by the CLI, the hyperparameters hold the net's config (class_path/init_args), from which
        # `load_from_checkpoint` rebuilds it; a task built by hand in Python stores the module itself.
        self.save_hyperparameters()
        _drop_link_values_the_net_does_not_take(self.hparams)
        self.net = net
        self.optimizer_factory = optimizer
        self.scheduler_factory = scheduler
        self.scheduler_interval = scheduler_interval
        if input_shape is not None:
            self.example_input_array = torch.zeros(2, *input_shape)

        metrics = self.make_metrics()
        self.train_metrics = metrics.clone(prefix="train/")
        self.val_metrics = metrics.clone(prefix="val/")
        self.test_metrics = metrics.clone(prefix="test/")
        self.train_loss, self.val_loss, self.test_loss = MeanMetric(), MeanMetric(), MeanMetric()
        self.val_best = MaxMetric() if self.best_mode == "max" else MinMetric()

    @property
    def monitor(self) -> str:
        """The metric checkpoints and plateau schedulers follow, e.g. ``val/acc``."""
        return f"val/{self.best_metric}"

    # --- what a task defines -------------------------------------------------------------------
    def make_metrics(self) -> MetricCollection:
        """The metrics of one split; cloned per split with its prefix."""
        raise NotImplementedError

    def loss(self, outputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def metric_inputs(
        self, outputs: torch.Tensor, targets: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """What the metrics compare; the raw outputs by default."""
        return outputs, targets

    # --- one step for every split ----------------------------------------------------------------
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)

    def shared_step(self, batch: Sequence[torch.Tensor], split: Split) -> torch.Tensor:
        x, targets = batch[0], batch[1]
        outputs = self(x)
        loss = self.loss(outputs, targets)
        loss_metric: MeanMetric = getattr(self, f"{split}_loss")
        metrics: MetricCollection = getattr(self, f"{split}_metrics")
        # Weighted by batch size, so the epoch loss is exact even when the last batch is short.
        loss_metric.update(loss.detach(), weight=targets.shape[0])
        metrics.update(*self.metric_inputs(outputs.detach(), targets))
        # Epoch-level logging of metric objects: no per-step host sync, exact epoch values.
        self.log(f"{split}/loss", loss_metric, on_step=False, on_epoch=True, prog_bar=True)
        self.log_dict(metrics, on_step=False, on_epoch=True, prog_bar=split != "train")
        return loss

    def training_step(self, batch: Sequence[torch.Tensor], batch_idx: int) -> torch.Tensor:
        return self.shared_step(batch, "train")

    def validation_step(self, batch: Sequence[torch.Tensor], batch_idx: int) -> None:
        self.shared_step(batch, "val")

    def test_step(self, batch: Sequence[torch.Tensor], batch_idx: int) -> None:
        self.shared_step(batch, "test")

    def on_train_start(self) -> None:
        # The sanity-check validation ran on an untrained net; it must not count as the best epoch.
        self.val_best.reset()

    def on_validation_epoch_end(self) -> None:
        if self.trainer.sanity_checking:
            return
        self.val_best.update(self.val_metrics[self.best_metric].compute())
        self.log(f"{self.monitor}_best", self.val_best.compute(), prog_bar=True)

    # --- optimisation ------------------------------------------------------------------------------
    def configure_optimizers(self) -> Any:
        optimizer = self.optimizer_factory(self.parameters())
        if self.scheduler_factory is None:
            return optimizer
        scheduler = self._build_scheduler(optimizer)
        interval = self.scheduler_interval
        config: dict[str, Any] = {"scheduler": scheduler, "interval": interval}
        if isinstance(scheduler, torch.optim.lr_scheduler.ReduceLROnPlateau):
            config["monitor"] = self.monitor
        return {"optimizer": optimizer, "lr_scheduler": config}

    def _build_scheduler(self, optimizer: torch.optim.Optimizer) -> torch.optim.lr_scheduler.LRScheduler:
        try:
            return self.scheduler_factory(optimizer)
        except (TypeError, ValueError) as error:
            # OneCycleLR cannot be built without its length; the trainer knows it. Any other
            # scheduler that fails here is a config error and is raised as is.
            if "total_steps" not in str(error) and "epochs" not in str(error):
                raise
        total = (
            self.trainer.estimated_stepping_batches
            if self.scheduler_interval == "step"
            else self.trainer.max_epochs
        )
        return self.scheduler_factory(optimizer, total_steps=int(total))
