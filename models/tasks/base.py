"""What every task shares: the wrapped net, one step for all splits, optimizer and scheduler wiring."""

from __future__ import annotations

import functools
import inspect
from collections.abc import MutableMapping, Sequence
from typing import Any, Literal

import lightning as L
import torch
from lightning.pytorch.cli import LRSchedulerCallable, OptimizerCallable
from torch import nn
from torchmetrics import MaxMetric, MeanMetric, MetricCollection, MinMetric

from litzoo.compat import (
    carry_optimizer_steps_across_modes,
    hyperparameters_given_by_cli,
    skip_logged_value_moves_within_a_device,
)
from litzoo.models.tasks.chunked import ChunkedSteps
from litzoo.models.tasks.net_checks import check_net_fits_data, net_input_shape
from litzoo.models.tasks.plain_hparams import plain_hyperparameters
from litzoo.models.tasks.speed import IMAGE_BATCH_DIMS, compile_net, use_channels_last

Split = Literal["train", "val", "test"]
#: How an epoch value the task computed itself is logged. torchmetrics syncs a metric across DDP
#: ranks when it computes, so the value is already the same on every rank: the ``max`` that
#: ``sync_dist`` takes across ranks returns it unchanged (a mean could round it), and Lightning then
#: knows the value is synced and does not warn.
EPOCH_VALUE: dict[str, Any] = {"on_step": False, "on_epoch": True, "sync_dist": True, "reduce_fx": "max"}


def needs_total_steps(factory: LRSchedulerCallable) -> bool:
    """Whether ``factory`` builds a ``OneCycleLR`` that was given neither ``total_steps`` nor ``epochs``.

    The CLI's factories are ``functools.partial(instantiator, SchedulerClass, **init_args)``; a class
    can also be passed directly from Python. Any other callable is taken to be complete.
    """
    if inspect.isclass(factory):
        scheduler_class, given = factory, {}
    elif isinstance(factory, functools.partial):
        scheduler_class = next((a for a in factory.args if inspect.isclass(a)), None)
        given = factory.keywords
    else:
        return False
    return (
        scheduler_class is not None
        and issubclass(scheduler_class, torch.optim.lr_scheduler.OneCycleLR)
        and given.get("total_steps") is None
        and given.get("epochs") is None
    )


class TaskModule(L.LightningModule):
    """Base of the task LightningModules: wraps any ``net`` and owns loss, metrics and optimisation.

    Subclasses set :attr:`best_metric` / :attr:`best_mode` (the metric the run is judged by, logged
    as ``val/<metric>`` and its running best ``val/<metric>_best``) and implement :meth:`loss` and
    :meth:`make_metrics`. Metrics are separate torchmetrics objects per split, logged as objects so
    Lightning computes them exactly over the epoch and syncs them across DDP ranks.

    What the data decides comes from the net, which declares it as ``net.input_shape`` (one sample's
    shape: the model summary's example input and a shape check at construction) and ``net.num_outputs``.
    A classifier of another library (``torchvision.models.resnet18``, timm's) declares neither: the
    shape is then the task's ``input_shape`` and the outputs are counted from one forward pass.

    Args:
        net: The architecture, an ``nn.Module`` with ``input_shape`` and ``num_outputs`` attributes
            (``class_path``/``init_args`` in YAML; the CLI links both values from the datamodule), or
            one that takes ``num_classes`` (torchvision's, timm's: the CLI links the data's number of
            classes into it).
        optimizer: Builds the optimizer from the parameters (``torch.optim.Adam`` by default).
        scheduler: Builds an LR scheduler from the optimizer, or ``None``. ``OneCycleLR`` gets its
            ``total_steps`` from the trainer; ``ReduceLROnPlateau`` monitors :attr:`monitor`.
        scheduler_interval: Step the scheduler every ``epoch`` or every optimizer ``step``.
        steps: ``None`` (default): one optimizer step per batch, Lightning's automatic optimization.
            A :class:`~litzoo.models.tasks.ChunkedSteps`, only where a config names it
            (``configs/speed/chunked.yaml``, ``configs/regression/mlp.yaml``): several optimizer
            steps per training batch, one per chunk of it, in manual optimization; the training step
            is the piece's, the task only hands it the batch. The run says so in its first lines.
        channels_last: Keep the net's weights and 4-D input batches in channels_last (NHWC) memory
            format, which lets GPU convolutions use tensor cores without transposes. Same values, only
            the layout changes; ignored with a warning for non-image inputs or nets without Conv2d.
        compile: ``torch.compile`` the net's forward when the trainer sets the task up
            (``nn.Module.compile``: the state dict keeps its keys, so checkpoints load into a plain
            net). Ignored with a warning where unsupported (Windows, no C compiler for the CPU
            backend, no triton for CUDA).
        input_shape: One sample's shape, for a net that does not declare its own (the CLI links it
            from the datamodule; a net's ``input_shape`` attribute wins).
    """

    best_metric: str
    best_mode: Literal["min", "max"]

    def __init__(
        self,
        net: nn.Module,
        optimizer: OptimizerCallable = torch.optim.Adam,
        scheduler: LRSchedulerCallable | None = None,
        scheduler_interval: Literal["epoch", "step"] = "epoch",
        steps: ChunkedSteps | None = None,
        channels_last: bool = False,
        compile: bool = False,
        input_shape: Sequence[int] | None = None,
    ) -> None:
        super().__init__()
        # Built by the CLI, the hyperparameters hold the net's config (class_path/init_args), from which
        # `load_from_checkpoint` rebuilds it. Built in Python, the live objects are recorded in the same
        # plain form (see plain_hparams), so such a checkpoint loads back the same way.
        if hyperparameters_given_by_cli():
            self.save_hyperparameters()
        else:
            live = {"net": net, "optimizer": optimizer, "scheduler": scheduler, "steps": steps}
            self.save_hyperparameters(ignore=list(live))
            self.save_hyperparameters({**self.hparams, **plain_hyperparameters(live)})
        self.net = net
        self.optimizer_factory = optimizer
        self.scheduler_factory = scheduler
        self.scheduler_interval = scheduler_interval
        self.input_shape = net_input_shape(net, input_shape)
        # The model summary's example input, so it prints each layer's input and output sizes.
        self.example_input_array = torch.zeros(2, *self.input_shape)
        # Fail here, naming both sides, rather than with a shape error deep inside the first step; a
        # net that declares no num_outputs (torchvision's) has them counted by the same forward pass.
        self.num_outputs = int(check_net_fits_data(net, self.input_shape, getattr(net, "num_outputs", None)))
        self.steps = steps
        self.automatic_optimization = steps is None
        # The layout is device-independent, so it is set here; compiling waits for `setup`, which knows
        # the device (the C compiler / triton checks depend on it).
        self.channels_last = channels_last and use_channels_last(net, self.input_shape)
        self.compile_requested = compile
        self.compile_tried = False

        metrics = self.make_metrics()
        self.train_metrics = metrics.clone(prefix="train/")
        self.val_metrics = metrics.clone(prefix="val/")
        self.test_metrics = metrics.clone(prefix="test/")
        self.train_loss, self.val_loss, self.test_loss = MeanMetric(), MeanMetric(), MeanMetric()
        self.val_best = MaxMetric() if self.best_mode == "max" else MinMetric()
        # In the checkpoint, so a resumed run continues the running best instead of starting over.
        self.val_best.persistent(True)

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
        if self.channels_last and x.dim() == IMAGE_BATCH_DIMS:
            x = x.contiguous(memory_format=torch.channels_last)
        return self.net(x)

    def setup(self, stage: str) -> None:
        if self.compile_requested and not self.compile_tried:
            self.compile_tried = True  # once per task, however many fit/test calls follow
            compile_net(self.net, self.trainer.strategy.root_device)

    def shared_step(self, batch: Sequence[torch.Tensor], split: Split) -> torch.Tensor:
        """Forward one batch, update the split's loss and metrics, return the loss.

        The metrics are logged once per epoch (see :meth:`log_split`).
        """
        x, targets = batch[0], batch[1]
        outputs = self(x)
        loss = self.loss(outputs, targets)
        self.record(split, outputs.detach(), targets, loss.detach(), targets.shape[0])
        return loss

    def record(
        self,
        split: Split,
        outputs: torch.Tensor,
        targets: torch.Tensor,
        losses: torch.Tensor,
        sizes: torch.Tensor | int,
    ) -> None:
        """Add outputs and losses to the split's metrics; ``losses`` of batches of ``sizes`` samples.

        Weighted by batch size, so the epoch loss is exact even when the last batch is short.
        """
        getattr(self, f"{split}_loss").update(losses, weight=sizes)
        getattr(self, f"{split}_metrics").update(*self.metric_inputs(outputs, targets))

    def log_split(self, split: Split) -> dict[str, torch.Tensor]:
        """Log the split's epoch values and start the next epoch afresh; called once per epoch.

        The metric objects are updated every step; here they are computed over the whole epoch
        (torchmetrics syncs them across DDP ranks as it computes), logged as plain tensors and reset.
        Handing Lightning the metric objects instead gives the same values, but Lightning then
        moves each object's state to the device again on every ``self.log`` (~1 ms per call on a
        CPU, more than a small model's whole epoch). Each value is already the same on every rank,
        so the ``max`` across ranks that ``sync_dist`` takes returns it unchanged (a mean could
        round it), and Lightning does not warn about unsynced epoch values.

        Returns the logged values, by tag.
        """
        loss, metrics = getattr(self, f"{split}_loss"), getattr(self, f"{split}_metrics")
        loss_value, metric_values = loss.compute(), metrics.compute()
        loss.reset()
        metrics.reset()
        with skip_logged_value_moves_within_a_device():  # the values are already where Lightning moves them
            self.log(f"{split}/loss", loss_value, prog_bar=True, **EPOCH_VALUE)
            self.log_dict(metric_values, prog_bar=split != "train", **EPOCH_VALUE)
        return {f"{split}/loss": loss_value, **metric_values}

    def training_step(self, batch: Sequence[torch.Tensor], batch_idx: int) -> torch.Tensor:
        if self.steps is not None:
            return self.steps.training_step(self, batch)
        return self.shared_step(batch, "train")

    def configure_callbacks(self) -> list[L.Callback]:
        """The ``steps`` piece, which brings its own hooks (scheduler stepping, clipping, checks)."""
        return [] if self.steps is None else [self.steps]

    def on_train_epoch_end(self) -> None:
        self.log_split("train")

    def validation_step(self, batch: Sequence[torch.Tensor], batch_idx: int) -> None:
        self.shared_step(batch, "val")

    def test_step(self, batch: Sequence[torch.Tensor], batch_idx: int) -> None:
        self.shared_step(batch, "test")

    def on_train_start(self) -> None:
        # The sanity-check validation ran on an untrained net; it must not count as the best epoch.
        # A resumed run (``ckpt_path`` set) keeps the best restored from its checkpoint, and its step
        # count, whichever optimization mode saved it (chunked steps or one per batch).
        if self.trainer.ckpt_path is None:
            self.val_best.reset()
        else:
            carry_optimizer_steps_across_modes(self.trainer)

    def on_test_epoch_end(self) -> None:
        self.log_split("test")

    def on_validation_epoch_end(self) -> None:
        values = self.log_split("val")
        if self.trainer.sanity_checking:
            return
        self.val_best.update(values[self.monitor])
        # The epoch value is the same on every rank (see log_split), so is the best.
        with skip_logged_value_moves_within_a_device():
            self.log(f"{self.monitor}_best", self.val_best.compute(), prog_bar=True, **EPOCH_VALUE)

    # --- optimisation ------------------------------------------------------------------------------
    def set_learning_rate(self, lr: float) -> None:
        """Build the optimizer with learning rate ``lr`` from now on, as if the config had said so.

        ``fit --lr_find true`` sets the rate Lightning's finder suggests this way. The factory gets
        ``lr`` as a keyword (every ``torch.optim`` optimizer takes one), and the recorded optimizer
        config says the same, so checkpoints and the HParams tab show the rate used (``hparams.yaml``
        keeps the arguments the task was built with).
        """
        self.optimizer_factory = functools.partial(self.optimizer_factory, lr=lr)
        optimizer = self.hparams.get("optimizer")
        if isinstance(optimizer, MutableMapping) and isinstance(optimizer.get("init_args"), MutableMapping):
            optimizer["init_args"]["lr"] = lr

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
        if not needs_total_steps(self.scheduler_factory):
            return self.scheduler_factory(optimizer)
        # OneCycleLR cannot be built without its length, which the trainer knows.
        return self.scheduler_factory(optimizer, total_steps=self.scheduler_length())

    def scheduler_length(self) -> int:
        """How many times the scheduler steps in this fit, as the trainer plans it: epochs (``interval:
        epoch``), Lightning steps, or optimizer steps (with :attr:`steps`, several per Lightning step)."""
        if self.scheduler_interval == "epoch":
            return int(self.trainer.max_epochs)
        if self.steps is None:
            return int(self.trainer.estimated_stepping_batches)
        return int(self.steps.total_steps(self.trainer))
