"""litzoo.compat against the installed Lightning and torch: each private attribute still does its job.

A failure here names the attribute a release renamed, removed or changed; fix the one function in
``litzoo/compat.py`` that touches it.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import warnings
from argparse import ArgumentError
from collections.abc import Mapping

import lightning as L
import pytest
import torch
from jsonargparse import ActionConfigFile, ArgumentParser
from lightning.pytorch.callbacks import ModelCheckpoint
from lightning.pytorch.cli import LightningCLI
from lightning.pytorch.demos.boring_classes import BoringModel
from lightning.pytorch.loggers import CSVLogger
from lightning.pytorch.loggers.csv_logs import ExperimentWriter
from lightning.pytorch.trainer.connectors.logger_connector.result import _ResultCollection, _ResultMetric
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
from torch.utils.data import DistributedSampler, TensorDataset
from torch.utils.tensorboard import SummaryWriter
from torch.utils.tensorboard.summary import scalar

from litzoo import compat


def quiet_trainer(tmp_path, **kwargs) -> L.Trainer:
    defaults = {"logger": False, "enable_progress_bar": False, "enable_model_summary": False}
    return L.Trainer(default_root_dir=tmp_path, **{**defaults, **kwargs})


def has(owner: object, name: str) -> None:
    owner_name = getattr(owner, "__name__", type(owner).__name__)
    assert hasattr(owner, name), f"{owner_name}.{name} is gone: update litzoo.compat"


# --- LightningCLI ----------------------------------------------------------------------------------
class Recorder(L.LightningModule):
    def __init__(self, width: int = 3) -> None:
        super().__init__()
        self.save_hyperparameters()


class MarkingCLI(LightningCLI):
    """Adds a value to the recorded config before instantiation, as litzoo's CLI adds an init_args block."""

    def instantiate_classes(self) -> None:
        compat.recorded_config(self)["model"]["marker"] = 7
        super().instantiate_classes()


def test_recorded_config_is_what_the_model_records(in_tmp_dir):
    cli = MarkingCLI(Recorder, run=False, args=["--model.width", "5", "--trainer.logger", "false"])
    assert compat.recorded_config(cli) is cli.config_dump, (
        "LightningCLI._dump_config no longer caches config_dump"
    )
    assert (cli.model.hparams["width"], cli.model.hparams.get("marker")) == (5, 7), (
        "LightningCLI no longer records the model's hyperparameters from config_dump (_dump_config)"
    )


class SeesWhoBuildsIt(L.LightningModule):
    def __init__(self, width: int = 3) -> None:
        super().__init__()
        self.given_by_cli = compat.hyperparameters_given_by_cli()


def test_a_module_knows_whether_the_cli_gives_its_hyperparameters(in_tmp_dir):
    import lightning.pytorch.core.mixins.hparams_mixin as hparams_mixin

    has(hparams_mixin, "_given_hyperparameters")
    assert not SeesWhoBuildsIt().given_by_cli
    cli = LightningCLI(SeesWhoBuildsIt, run=False, args=["--trainer.logger", "false"])
    assert cli.model.given_by_cli, "LightningCLI no longer sets _given_hyperparameters around the constructor"


# --- ModelCheckpoint --------------------------------------------------------------------------------
def test_checkpoint_step_and_unscheduled_save(tmp_path):
    checkpoint = ModelCheckpoint(
        dirpath=tmp_path / "checkpoints", filename="last", monitor=None, every_n_epochs=0
    )
    for name in ("_last_global_step_saved", "_save_none_monitor_checkpoint", "_monitor_candidates"):
        has(checkpoint, name)
    trainer = quiet_trainer(tmp_path, max_steps=3, callbacks=[checkpoint], limit_val_batches=0)
    assert compat.last_saved_global_step(checkpoint) == 0, (
        "ModelCheckpoint._last_global_step_saved starts elsewhere"
    )
    trainer.fit(BoringModel())
    assert compat.last_saved_global_step(checkpoint) == 0  # every_n_epochs=0: nothing scheduled
    compat.save_unmonitored_checkpoint(checkpoint, trainer)
    saved = tmp_path / "checkpoints" / "last.ckpt"
    assert saved.is_file(), "ModelCheckpoint._save_none_monitor_checkpoint no longer saves"
    assert checkpoint.best_model_path == str(saved)
    assert compat.last_saved_global_step(checkpoint) == trainer.global_step == 3, (
        "ModelCheckpoint._last_global_step_saved no longer records the step of a save"
    )
    assert torch.load(saved, weights_only=False)["global_step"] == 3


# --- CSVLogger --------------------------------------------------------------------------------------
def test_csv_writer_keeps_an_existing_metrics_file(tmp_path):
    has(ExperimentWriter, "_check_log_dir_exists")
    logger = CSVLogger(tmp_path, name="run", version=0)
    has(logger, "_experiment")
    metrics = tmp_path / "run" / "version_0" / ExperimentWriter.NAME_METRICS_FILE
    metrics.parent.mkdir(parents=True)
    metrics.write_text("a,step\n1.0,0\n")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # Lightning's writer warns that it will delete the file
        writer = compat.csv_experiment_keeping_metrics(logger)
    assert logger.experiment is writer, "CSVLogger no longer caches its writer in _experiment"
    writer.log_hparams({"width": 3})
    assert (metrics.parent / ExperimentWriter.NAME_HPARAMS_FILE).is_file()
    assert metrics.read_text() == "a,step\n1.0,0\n", (
        "ExperimentWriter._check_log_dir_exists override no longer keeps the existing metrics.csv"
    )


# --- SummaryWriter ----------------------------------------------------------------------------------
def test_tensorboard_file_writer_writes_summaries_even_after_close(tmp_path):
    has(SummaryWriter, "_get_file_writer")
    writer = SummaryWriter(str(tmp_path))
    writer.close()  # as Lightning's TensorBoardLogger.finalize leaves it after each fit/validate/test
    compat.tensorboard_file_writer(writer).add_summary(scalar("probe", 1.5), global_step=4)
    writer.close()
    events = EventAccumulator(str(tmp_path)).Reload()
    assert [(e.step, e.value) for e in events.Scalars("probe")] == [(4, 1.5)], (
        "SummaryWriter._get_file_writer no longer (re)opens the event file writer"
    )


# --- manual optimization ----------------------------------------------------------------------------
class ManualModel(BoringModel):
    def __init__(self, past_lightning: bool) -> None:
        super().__init__()
        self.automatic_optimization = False
        self.past_lightning = past_lightning

    def training_step(self, batch, batch_idx):
        optimizer = self.optimizers()
        optimizer.zero_grad()
        loss = self.step(batch)
        if self.past_lightning:
            loss.backward()
            compat.step_past_lightning(self.trainer, optimizer)
        else:
            self.manual_backward(loss)
            optimizer.step()
        return loss


def test_steps_past_lightning_count_like_lightning_optimizer_steps(tmp_path):
    progress = quiet_trainer(tmp_path).fit_loop.epoch_loop.manual_optimization.optim_step_progress
    for name in ("increment_ready", "increment_completed"):
        has(progress, name)
    runs = {}
    for past_lightning in (False, True):
        L.seed_everything(0)
        model = ManualModel(past_lightning)
        trainer = quiet_trainer(tmp_path, max_steps=5, limit_val_batches=0, enable_checkpointing=False)
        trainer.fit(model)
        runs[past_lightning] = trainer.global_step, model.state_dict()
    assert runs[True][0] == runs[False][0] == 5, (
        "trainer.global_step no longer reads fit_loop.epoch_loop.manual_optimization.optim_step_progress"
    )
    for name, value in runs[False][1].items():
        torch.testing.assert_close(runs[True][1][name], value, rtol=0, atol=0, msg=name)


class StepLogger(BoringModel):
    """Logs a value every batch; in manual optimization takes two optimizer steps per batch."""

    def __init__(self, manual: bool) -> None:
        super().__init__()
        self.automatic_optimization = not manual

    def training_step(self, batch, batch_idx):
        self.log("value", float(batch_idx), on_step=True, on_epoch=False)
        if self.automatic_optimization:
            return super().training_step(batch, batch_idx)
        optimizer = self.optimizers()
        for _ in range(2):
            optimizer.zero_grad()
            self.manual_backward(self.step(batch))
            optimizer.step()
        compat.log_at_optimizer_steps(self.trainer)
        return None


def test_logged_steps_follow_the_optimizer_steps(tmp_path):
    has(quiet_trainer(tmp_path).fit_loop.epoch_loop, "_batches_that_stepped")
    logger = CSVLogger(tmp_path)
    trainer = quiet_trainer(tmp_path, logger=logger, max_steps=6, limit_val_batches=0, log_every_n_steps=1)
    trainer.fit(StepLogger(manual=True))
    logger.experiment.save()
    lines = (tmp_path / "lightning_logs" / "version_0" / "metrics.csv").read_text().splitlines()
    steps = [line.split(",")[1] for line in lines[1:]]  # epoch,step,value: logged after steps 2, 4, 6
    assert steps == ["1", "3", "5"], "logging no longer reads fit_loop.epoch_loop._batches_that_stepped"


class CarryAtTrainStart(L.Callback):
    """Records ``global_step`` as a resumed fit starts, before and after carrying the count over."""

    def on_train_start(self, trainer, pl_module) -> None:
        self.before = trainer.global_step
        compat.carry_optimizer_steps_across_modes(trainer)
        self.after = trainer.global_step


def test_the_step_count_carries_over_to_the_other_optimization_mode(tmp_path):
    epoch_loop = quiet_trainer(tmp_path).fit_loop.epoch_loop
    has(epoch_loop.automatic_optimization.optim_progress.optimizer.step, "total")
    has(epoch_loop.manual_optimization.optim_step_progress, "total")
    for saved_manual in (True, False):
        first = quiet_trainer(tmp_path, max_steps=4, limit_val_batches=0)
        first.fit(StepLogger(manual=saved_manual))
        checkpoint = tmp_path / f"saved_manual_{saved_manual}.ckpt"
        first.save_checkpoint(checkpoint)
        carry = CarryAtTrainStart()
        resumed = quiet_trainer(tmp_path, max_steps=6, limit_val_batches=0, callbacks=[carry])
        resumed.fit(StepLogger(manual=not saved_manual), ckpt_path=checkpoint)
        assert carry.before == 0, "the checkpoint's step counters are no longer one per optimization mode"
        assert carry.after == 4, "trainer.global_step no longer reads the two step counters"
        assert resumed.global_step == 6


def test_checkpoint_contents_hold_what_a_checkpoint_file_holds(tmp_path):
    trainer = quiet_trainer(tmp_path, max_steps=2)
    trainer.fit(BoringModel())
    has(trainer, "_checkpoint_connector")
    contents = compat.checkpoint_contents(trainer)
    trainer.save_checkpoint(tmp_path / "saved.ckpt")
    saved = torch.load(tmp_path / "saved.ckpt", weights_only=False)
    assert set(contents) == set(saved)
    assert contents["global_step"] == saved["global_step"] == 2


def test_the_slurm_requeue_handler_can_be_wrapped(tmp_path):
    trainer = quiet_trainer(tmp_path)
    has(trainer, "_signal_connector")
    has(trainer._signal_connector, "_slurm_sigusr_handler_fn")
    seen = []
    assert compat.wrap_slurm_requeue_handler(trainer, lambda handler: lambda *args: seen.append(handler))
    trainer._signal_connector._slurm_sigusr_handler_fn(10, None)
    assert len(seen) == 1 and callable(seen[0])  # the wrapper got Lightning's own handler


# --- self.log ---------------------------------------------------------------------------------------
def every_tensor_in(value: object) -> list[torch.Tensor]:
    """The tensors Lightning's ``apply_to_collection`` would reach in ``value``, walked the same way."""
    if isinstance(value, torch.Tensor):
        return [value]
    if isinstance(value, Mapping):
        return [t for item in value.values() for t in every_tensor_in(item)]
    if isinstance(value, list | tuple | set):
        return [t for item in value for t in every_tensor_in(item)]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return [t for f in dataclasses.fields(value) for t in every_tensor_in(getattr(value, f.name))]
    return []


def test_a_logged_value_moves_its_accumulator_only_to_another_device():
    results = _ResultCollection(training=True)
    results.log("training_step", "loss", torch.tensor(0.5), on_step=True, on_epoch=True, batch_size=4)
    accumulator = results["training_step.loss"]
    accumulator.compute()  # fills the cached result too
    tensors = every_tensor_in(accumulator.__dict__)
    assert {id(t) for t in compat.accumulator_tensors(accumulator)} == {id(t) for t in tensors}, (
        "_ResultMetric holds a tensor compat.accumulator_tensors does not list"
    )

    has(_ResultMetric, "to")
    lightning_to = vars(_ResultMetric)["to"]
    meta = accumulator.meta
    with compat.skip_logged_value_moves_within_a_device():
        assert accumulator.to(torch.device("cpu")) is accumulator
        assert accumulator.meta is meta, (
            "nothing moves, yet Lightning's _ResultMetric.to ran (it copies meta)"
        )
        accumulator.to(torch.device("meta"))
        assert {t.device.type for t in every_tensor_in(accumulator.__dict__)} == {"meta"}
    assert vars(_ResultMetric)["to"] is lightning_to, "Lightning's _ResultMetric.to was not put back"
    accumulator.to(torch.device("meta"))
    assert accumulator.meta is not meta  # outside the block, Lightning's own .to runs


def test_the_logged_value_patch_is_scoped_reentrant_and_exception_safe():
    lightning_to = vars(_ResultMetric)["to"]
    with compat.skip_logged_value_moves_within_a_device():
        patched = _ResultMetric.to
        assert patched is not lightning_to
        with compat.skip_logged_value_moves_within_a_device():
            assert _ResultMetric.to is patched
        assert _ResultMetric.to is patched, "leaving an inner block undid the outer one's patch"
    assert vars(_ResultMetric)["to"] is lightning_to
    with pytest.raises(ZeroDivisionError), compat.skip_logged_value_moves_within_a_device():
        raise ZeroDivisionError
    assert vars(_ResultMetric)["to"] is lightning_to, "an exception left _ResultMetric.to patched"


# --- torch.compile ----------------------------------------------------------------------------------
def test_triton_usable_is_torchs_own_check():
    import torch.utils._triton

    has(torch.utils._triton, "has_triton")
    usable = compat.triton_usable()
    assert isinstance(usable, bool)
    if importlib.util.find_spec("triton") is None or not torch.cuda.is_available():
        assert not usable, "torch.utils._triton.has_triton says yes without triton or a GPU"


# --- DDP evaluation ---------------------------------------------------------------------------------
def test_the_unrepeated_sampler_gives_each_sample_to_one_rank_once():
    import lightning.pytorch.overrides.distributed

    has(lightning.pytorch.overrides.distributed, "UnrepeatedDistributedSampler")
    dataset = TensorDataset(torch.arange(10))
    shares = [list(compat.unrepeated_distributed_sampler(dataset, num_replicas=3, rank=r)) for r in range(3)]
    assert sorted(i for share in shares for i in share) == list(range(10)), (
        f"UnrepeatedDistributedSampler repeats or drops samples: {shares}"
    )
    assert all(share == sorted(share) for share in shares), "UnrepeatedDistributedSampler shuffles"
    assert isinstance(compat.unrepeated_distributed_sampler(dataset, 3, 0), DistributedSampler)


# --- jsonargparse errors ----------------------------------------------------------------------------
class RecordingParser(ArgumentParser):
    def error(self, message, ex=None):
        self.failed = compat.parser_that_failed(self, ex)
        super().error(message, ex)


def test_option_strings_and_the_parser_of_a_subcommand_error(tmp_path):
    root = RecordingParser(exit_on_error=False)
    root.add_argument("--config", action=ActionConfigFile)
    fit = ArgumentParser()
    fit.add_argument("--epochs", type=int, default=1)
    root.add_subcommands().add_subcommand("fit", fit)
    has(fit, "_actions")
    assert {"--epochs", "--help"} <= set(compat.option_strings(fit)), "argparse's _actions changed"

    config = tmp_path / "config.yaml"
    config.write_text("fit:\n  epoch: 3\n")
    with pytest.raises(ArgumentError, match="does not accept option 'epoch'"):
        root.parse_args(["--config", str(config), "fit"])
    assert root.failed is fit, "jsonargparse no longer sets subcommand_parser on a subcommand's error"
    assert compat.parser_that_failed(root, ValueError("other")) is root


class ValidationStepRecorder(L.Callback):
    """Records ``compat.logging_step`` when validation ends, and the steps the logger received."""

    def __init__(self) -> None:
        self.at_validation_end: list[int] = []

    def on_validation_end(self, trainer, pl_module) -> None:
        if not trainer.sanity_checking:
            self.at_validation_end.append(compat.logging_step(trainer))


class ValidationLogger(BoringModel):
    def validation_step(self, batch, batch_idx):
        loss = super().validation_step(batch, batch_idx)["x"]
        self.log("val_loss", loss, on_epoch=True)


def test_logging_step_is_the_step_validation_values_are_logged_at(tmp_path):
    logger = CSVLogger(tmp_path)
    recorder = ValidationStepRecorder()
    trainer = quiet_trainer(tmp_path, logger=logger, max_epochs=3, limit_train_batches=4, limit_val_batches=2,
                            callbacks=[recorder])  # fmt: skip
    trainer.fit(ValidationLogger())
    logger.experiment.save()
    lines = (tmp_path / "lightning_logs" / "version_0" / "metrics.csv").read_text().splitlines()
    header = lines[0].split(",")
    logged = [
        int(row.split(",")[header.index("step")])
        for row in lines[1:]
        if row.split(",")[header.index("val_loss")]
    ]
    assert recorder.at_validation_end == logged == [3, 7, 11], "logging_step no longer reads the logged step"
