"""litzoo's command line: ``litzoo {fit,validate,test,predict} --config CONFIG.yaml``.

``python scripts/train.py ...`` is the same command, for a clone that is run in place.

Every config picks a task (``model``), an architecture inside it (``model.init_args.net``) and a
datamodule (``data``); the two values that depend on the data (:data:`DATA_LINKS`: input shape and
number of outputs) are linked from the datamodule into the net, so no config repeats them.
"""

from __future__ import annotations

import atexit
import importlib
import inspect
import shutil
import sys
import tempfile
import typing
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path

import yaml
from jsonargparse import Namespace
from lightning.pytorch import LightningDataModule, Trainer
from lightning.pytorch.callbacks import Callback, ModelCheckpoint, ModelSummary, RichModelSummary
from lightning.pytorch.cli import LightningArgumentParser, LightningCLI
from lightning.pytorch.trainer.states import TrainerFn
from lightning.pytorch.utilities.rank_zero import rank_zero_info

import litzoo.datamodules  # registers the datamodules for short class paths
import litzoo.models  # noqa: F401  (registers the architectures for short class paths)
from litzoo.callbacks import LastCheckpoint, NetSummary
from litzoo.cli.config_files import config_file_problem, config_paths
from litzoo.cli.cpu_threads import set_cpu_threads
from litzoo.cli.gpu_probe import skip_gpu_probing_without_gpu
from litzoo.cli.monitoring import (
    DEFAULT_LOGGERS,
    DEFAULTS_CONFIG,
    add_run_essentials,
    default_progress_bar,
    resolve_named_checkpoint,
)
from litzoo.cli.parse_errors import LitzooArgumentParser
from litzoo.cli.process_group import ending_the_process_group_it_starts
from litzoo.cli.quiet import silence_known_noise
from litzoo.compat import recorded_config
from litzoo.faults import (
    DataSanityCheck,
    NonFiniteLossGuard,
    SaveOnInterrupt,
    check_checkpoint_fits_data,
    check_checkpoint_fits_model,
    check_checkpoint_matches_config,
    check_checkpoint_readable,
    use_atomic_checkpoint_io,
)
from litzoo.faults.debug_runs import keep_no_checkpoints
from litzoo.faults.option_checks import seed_problem, trainer_option_problem
from litzoo.faults.os_errors import in_folder
from litzoo.faults.requeue import exact_requeue
from litzoo.faults.stopping_signals import stopping_on_signals
from litzoo.models.tasks import TaskModule
from litzoo.models.tasks.chunked import samples_per_step
from litzoo.models.tasks.net_checks import CLASSES_ARGUMENT, DATA_ARGUMENTS, SIZE_ATTRIBUTES
from litzoo.runs.evaluation import EVALUATION_STAGES
from litzoo.runs.folder import RunConfigSaver, command_experiment_problem, run_folder_of_checkpoint
from litzoo.runs.resume_journal import best_files_of
from litzoo.runs.resume_options import (
    ApplyOptimizerSettings,
    asked_model_options,
    newest_run_config,
    resume_differences,
    split_differences,
)
from litzoo.runs.resume_options import seed_problem as resume_seed_problem
from litzoo.runs.resume_safety import ScheduleLengthCheck, consumed_checkpoint_problem
from litzoo.runs.setup import RunFolder
from litzoo.sweeps.lr_find import add_lr_find_argument, check_lr_find_request, find_learning_rate

#: What the data decides, one vocabulary for every datamodule and every net (torchvision's habit: one
#: name everywhere): each datamodule attribute is linked into the net's argument of the same name,
#: ``input_shape`` (one sample's shape) and ``num_outputs`` (classes, or regression targets). The tasks
#: read both from their net.
DATA_LINKS = {name: f"model.init_args.net.init_args.{name}" for name in SIZE_ATTRIBUTES}


def link_data_to_net(parser: LightningArgumentParser) -> None:
    """Link each of :data:`DATA_LINKS` from the datamodule into the net, once both are instantiated;
    for a classifier of another library (torchvision's, timm's), the data's number of outputs into its
    ``num_classes`` and the input shape into the task's ``input_shape``. A link whose target the chosen
    net does not take is skipped by jsonargparse.

    Call it after every other instantiation link. jsonargparse orders instantiation by the graph of its
    links, where a target nested in the task (``model.init_args.net``) does not make the task itself
    wait for the datamodule; when the task is also a link source (the checkpoint's ``monitor`` and
    ``mode``) and these links come first, the task is built before the datamodule and the links are
    skipped (jsonargparse 4.53). Registered last, they put the datamodule first.
    """
    for name, target in DATA_LINKS.items():
        parser.link_arguments(f"data.{name}", target, apply_on="instantiate")
    parser.link_arguments(
        "data",
        f"model.init_args.net.init_args.{CLASSES_ARGUMENT}",
        compute_fn=data_outputs,
        apply_on="instantiate",
    )
    parser.link_arguments("data.input_shape", "model.init_args.input_shape", apply_on="instantiate")


def data_outputs(data: LightningDataModule) -> int:
    """The datamodule's number of outputs, the ``num_classes`` of torchvision's and timm's classifiers."""
    return data.num_outputs


def give_net_config_init_args(cli: LightningCLI) -> None:
    """Make sure the net's recorded config has an ``init_args`` block, even when every argument is linked.

    Lightning records instantiation-linked values into the checkpoint's hyperparameters under
    ``net.init_args`` of its config dump, and asserts that block exists; for a net configured by
    ``class_path`` alone (e.g. LeNet-5, whose arguments all come from the data) the dump omits it.
    The dump is cached, so the block added here is the one Lightning then fills.
    """
    dump = recorded_config(cli)
    net = (dump.get("model") or {}).get("init_args", {}).get("net") if isinstance(dump, dict) else None
    if isinstance(net, dict) and "class_path" in net:
        net.setdefault("init_args", {})


def clip_chunks_like_the_trainer(config: Namespace) -> None:
    """With ``model.init_args.steps`` (ChunkedSteps), clip each chunk's gradients as the trainer config asks.

    A chunked task steps its optimizer itself (manual optimization), where Lightning refuses
    ``trainer.gradient_clip_val``. So that an experiment that clips (the recurrent configs) keeps
    clipping when ``configs/speed/chunked.yaml`` is composed onto it, the trainer's norm clipping
    moves to the piece's ``gradient_clip_val``, which clips every chunk the same way. Gradient
    accumulation, which Lightning also refuses there, is a config error naming the ways out.
    """
    init_args = getattr(config.get("model"), "init_args", None)
    steps = getattr(init_args.get("steps"), "init_args", None) if init_args is not None else None
    if steps is None:
        return
    trainer = config.trainer
    chunked = (
        f"model.init_args.steps (ChunkedSteps, chunk_size={steps.get('chunk_size')}) steps the optimizer "
        "inside the task"
    )
    accumulate = trainer.get("accumulate_grad_batches") or 1
    if accumulate != 1:
        raise ValueError(
            f"{chunked}, once per chunk, so trainer.accumulate_grad_batches={accumulate} cannot apply there. "
            "For a larger optimizer batch raise --model.init_args.steps.init_args.chunk_size, or train "
            "batch by batch: --model.init_args.steps null --data.init_args.batch_size <per-step batch>."
        )
    clip = trainer.get("gradient_clip_val")
    if clip is None:
        return
    algorithm = trainer.get("gradient_clip_algorithm") or "norm"
    if algorithm != "norm":
        raise ValueError(
            f"{chunked}, which clips gradients by norm only; trainer.gradient_clip_algorithm={algorithm!r} "
            "cannot apply there. Use --trainer.gradient_clip_algorithm norm, or drop model.init_args.steps."
        )
    own = steps.get("gradient_clip_val")
    if own is not None and own != clip:
        raise ValueError(
            f"{chunked} and clips with its own gradient_clip_val={own}, but the trainer asks for "
            f"gradient_clip_val={clip}. Give one value: --trainer.gradient_clip_val null, or the same "
            "number to both."
        )
    steps.gradient_clip_val = clip
    trainer.gradient_clip_val = None
    trainer.gradient_clip_algorithm = None


def drop_links_the_net_does_not_take(model: object) -> None:
    """Keep in the task's recorded net config only the data links its net takes.

    Lightning records every applied instantiation link into the hyperparameters, also those jsonargparse
    skipped because the net has no such argument (``num_outputs`` for torchvision's resnet18, which
    takes ``num_classes``); a checkpoint recording them could not be parsed back
    (``test --ckpt_path``: "Option 'num_outputs' is not accepted").
    """
    net = getattr(model, "hparams", {}).get("net")
    if not isinstance(net, dict) or not isinstance(net.get("init_args"), dict):
        return
    module, name = net["class_path"].rsplit(".", 1)
    accepted = accepted_arguments(getattr(importlib.import_module(module), name))
    if accepted is None:
        return
    dropped = [name for name in DATA_ARGUMENTS if name not in accepted]
    if any(name in net["init_args"] for name in dropped):
        for name in dropped:
            net["init_args"].pop(name, None)
        model.save_hyperparameters(dict(model.hparams))  # hparams.yaml and the HParams tab too


def check_net_outputs_fit_data(model: object, datamodule: object) -> None:
    """Refuse a net whose outputs per sample are not the data's classes or targets.

    The CLI links them into a net's ``num_outputs`` (litzoo's) or ``num_classes`` (torchvision's and
    timm's classifiers); a builder that hides ``num_classes`` behind ``**kwargs`` where jsonargparse
    cannot follow (``torchvision.models.mobilenet_v3_small``) keeps its default of 1000 classes, and
    would train 1000 logits on 10 labels without a word.
    """
    wanted = getattr(datamodule, "num_outputs", None)
    got = getattr(model, "num_outputs", None)
    if wanted is None or got is None or wanted == got:
        return
    net = type(getattr(model, "net", model)).__name__
    raise ValueError(
        f"{net} returns {got} values per sample, but {type(datamodule).__name__} has {wanted} classes or "
        f"targets, and the CLI could not link that number into the net. Give it yourself, e.g. "
        f"--model.init_args.net.init_args.num_classes {wanted}."
    )


def accepted_arguments(builder: Callable) -> set[str] | None:
    """The keyword arguments a class or builder function takes (None: any).

    A builder that passes ``**kwargs`` on to the class it returns (torchvision's ``resnet18(*, weights,
    progress, **kwargs) -> ResNet``, which jsonargparse follows the same way) takes that class's too.
    """
    parameters = inspect.signature(builder).parameters.values()
    names = {p.name for p in parameters if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)}
    if not any(p.kind == p.VAR_KEYWORD for p in parameters):
        return names
    if inspect.isclass(builder):
        return None
    returned = typing.get_type_hints(builder).get("return")
    forwarded = accepted_arguments(returned) if inspect.isclass(returned) else None
    return None if forwarded is None else names | forwarded


def recorded_best(trainer: Trainer | None) -> list[str] | None:
    """The best checkpoint files the trainer's best-checkpoint callback knows (None: none tracked)."""
    if trainer is None:
        return None
    return best_files_of({cb.state_key: cb.state_dict() for cb in trainer.checkpoint_callbacks})


def evaluated_checkpoint(command_line: Sequence[str]) -> str | None:
    """The ``--ckpt_path`` file of a ``validate``/``test``/``predict`` command line (None for others)."""
    if not any(arg in EVALUATION_STAGES for arg in command_line):
        return None
    for index, arg in enumerate(command_line):
        if arg == "--ckpt_path" and index + 1 < len(command_line):
            return command_line[index + 1]
        if arg.startswith("--ckpt_path="):
            return arg.split("=", 1)[1]
    return None


#: What an evaluation of a run's checkpoint reads from the run's config.yaml: the model and data it was
#: trained on, the experiment it is filed under, its seed, and its checkpoint callbacks' settings
#: (Lightning warns when a checkpoint's callbacks are missing or configured otherwise on loading).
RUN_SECTIONS = ("experiment", "seed_everything", "model", "data", "checkpoint", "last_checkpoint")


def with_run_config(command_line: list[str], run_config: Path, folder: Path) -> list[str]:
    """``command_line`` reading the :data:`RUN_SECTIONS` of the checkpoint's ``run_config`` first, and
    its data section again after the command's own config files: an experiment config (with its default
    ``data_dir``, say) then describes the model and trainer, while the data the run was trained on stays,
    unless the configs choose another datamodule. Options given on the command line still win. The
    sections go through files in ``folder``: config files are read before options, wherever they stand.
    The run's trainer settings (its logger's version, its folder) are not taken: they are the fit's."""
    at = next(i for i, arg in enumerate(command_line) if arg in SUBCOMMANDS) + 1
    configs, options = split_config_files(command_line[at:])
    recorded = yaml.safe_load(run_config.read_text()) or {}
    run_data = recorded.get("data")
    # In a folder named like the data presets: such files never name the experiment (runs.folder); the
    # run's own experiment does, so that the evaluation is filed under it.
    folder = folder / "data"
    folder.mkdir(exist_ok=True)
    first = folder / "run_model_and_data.yaml"
    first.write_text(yaml.safe_dump({key: recorded[key] for key in RUN_SECTIONS if key in recorded}))
    chosen = [name for name in map(data_class_of, config_paths(configs)) if name is not None]
    again = []
    if isinstance(run_data, dict) and chosen and chosen[-1] == run_data.get("class_path"):
        (folder / "run_data.yaml").write_text(yaml.safe_dump({"data": run_data}))
        again = ["--config", str(folder / "run_data.yaml")]
    return [*command_line[:at], "--config", str(first), *configs, *again, *options]


def data_class_of(config_path: str) -> str | None:
    """The datamodule class a config file chooses (None: it chooses none, or is not a readable file)."""
    try:
        data = (yaml.safe_load(Path(config_path).read_text()) or {}).get("data")
    except (OSError, ValueError, yaml.YAMLError, AttributeError):
        return None
    return data.get("class_path") if isinstance(data, dict) else None


def split_config_files(args: list[str]) -> tuple[list[str], list[str]]:
    """``args`` as its ``--config``/``-c`` files (each with its flag, in order) and everything else."""
    configs, options, index = [], [], 0
    while index < len(args):
        arg = args[index]
        if arg in ("--config", "-c") and index + 1 < len(args):
            configs += args[index : index + 2]
            index += 2
            continue
        (configs if arg.startswith("--config=") else options).append(arg)
        index += 1
    return configs, options


def run_config_to_read_first(ckpt_path: str | None) -> Path | None:
    """The config of the run a ``--ckpt_path`` file belongs to (``<run>/checkpoints/X.ckpt``), if it has one."""
    run = run_folder_of_checkpoint(ckpt_path)
    return None if run is None else newest_run_config(run)


def run_config_problem(config: Path) -> str | None:
    """Why the run's own ``config`` cannot serve an evaluation (damaged, edited, emptied), or None.

    Read as it is, such a file would end in a parser error about options the user never gave.
    """
    fix = (
        "litzoo reads the run's own config because --ckpt_path names one of the run's checkpoints. Restore "
        f"the file as the run wrote it, or move it out of {config.parent} and give the experiment's config "
        "with --config."
    )
    problem = config_file_problem(str(config), fix)
    if problem is not None:
        return problem
    recorded = yaml.safe_load(config.read_text())
    missing = [key for key in ("model", "data") if "class_path" not in as_mapping(recorded.get(key))]
    if missing:
        return f"Config file {config} has no {' and no '.join(missing)} section naming a class (class_path). {fix}"
    return None


def as_mapping(value: object) -> dict:
    return value if isinstance(value, dict) else {}


def summarize_the_net(trainer: Trainer) -> None:
    """Put :class:`~litzoo.callbacks.NetSummary` where Lightning put its default model summary.

    Only Lightning's own default (added when ``trainer.enable_model_summary`` is true and no summary
    callback was given) is replaced; a summary callback the user chose stays.
    """
    for index, callback in enumerate(trainer.callbacks):
        if type(callback) in (ModelSummary, RichModelSummary):
            trainer.callbacks[index] = NetSummary()


class LitzooCLI(LightningCLI):
    """LightningCLI with litzoo's defaults: data-derived links, checkpoints, run folders."""

    def __init__(self, *args, **kwargs) -> None:
        """Parse, build and run; a run that fails before its first training step leaves no run folder
        (nor does a command stopped by SIGTERM or Ctrl+C before it trained: :mod:`litzoo.faults.stopping_signals`)."""
        self.run_folder: RunFolder | None = None
        self._checkpoint: dict | None = None
        self._resume_asks: dict[str, object] = {}
        self._optimizer_changes: dict[str, tuple[object, object]] = {}
        with stopping_on_signals() as self._stop_on_signals:
            try:
                super().__init__(*args, **kwargs)
            except BaseException as error:
                trainer = getattr(self, "trainer", None)
                trained = (
                    trainer is not None and trainer.state.fn == TrainerFn.FITTING and trainer.global_step > 0
                )
                named = None
                if self.run_folder is not None:
                    if self.run_folder.path is not None:
                        named = in_folder(error, self.run_folder.path)
                    self.run_folder.close(keep=trained, recorded_best=recorded_best(trainer))
                if named is not None:
                    raise named from error
                raise
            if self.subcommand is not None and self.run_folder is not None:  # ran: the folder is complete
                self.run_folder.close(recorded_best=recorded_best(self.trainer))  # (run=False: the caller)

    @property
    def command_config(self) -> Namespace:
        """The parsed config of the command being run: its subcommand's section (the whole config
        without a subcommand, ``run=False``). Valid from parsing on, before ``self.subcommand`` is set."""
        subcommand = self.config.get("subcommand")
        return self.config[subcommand] if subcommand else self.config

    def add_arguments_to_parser(self, parser: LightningArgumentParser) -> None:
        parser.add_argument(
            "--experiment",
            type=str | None,
            default=None,
            help="Run folder name under lightning_logs/ (default: derived from the --config path).",
        )
        parser.add_argument(
            "--cpu_threads",
            type=int | None,
            default=None,
            help="PyTorch's CPU threads on a CPU run (default null: one thread for small training steps, "
            "where more only spin, else PyTorch's own choice; an OMP_NUM_THREADS in the environment wins).",
        )
        parser.add_lightning_class_args(ModelCheckpoint, "checkpoint")
        parser.set_defaults({"checkpoint.filename": "best-{epoch:03d}", "checkpoint.save_last": False})
        parser.link_arguments("model", "checkpoint.monitor", lambda m: m.monitor, apply_on="instantiate")
        parser.link_arguments("model", "checkpoint.mode", lambda m: m.best_mode, apply_on="instantiate")
        add_run_essentials(parser)  # RNG state for exact resume, predictions.csv
        # `last.ckpt` after every epoch, so a crash (even kill -9) loses at most one epoch, and when
        # training ends. A checkpoint of its own because Lightning's `save_last` rewrites last.ckpt only
        # in epochs that saved a new best; `every_n_train_steps` here saves it more often for long epochs.
        parser.add_lightning_class_args(LastCheckpoint, "last_checkpoint")
        parser.set_defaults(
            {"last_checkpoint.filename": "last", "last_checkpoint.enable_version_counter": False}
        )
        parser.add_lightning_class_args(NonFiniteLossGuard, "nan_guard")
        parser.add_lightning_class_args(DataSanityCheck, "data_check")
        parser.add_lightning_class_args(SaveOnInterrupt, "save_on_interrupt")
        add_lr_find_argument(parser)
        link_data_to_net(parser)  # last: see its docstring

    def parse_arguments(self, parser: LightningArgumentParser, args) -> None:
        """Parse, then settle ``--ckpt_path`` before Lightning reads the file's hyperparameters.

        ``best|last`` becomes that file of the experiment's latest training run, and a missing or
        unreadable file fails here, before any run folder is reserved. The file is read once.

        Each ``--config`` file is read first, so a broken one is named (exit code 2, like any config
        error). A checkpoint of another task or net than the config's fails here too: right after this,
        LightningCLI replaces the config's model section with the checkpoint's hyperparameters, and
        would evaluate (and file under this experiment) whatever model the checkpoint holds.
        """
        command_line = sys.argv[1:] if args is None else args
        run_config = None
        if isinstance(command_line, list | tuple):
            for path in config_paths(command_line):
                problem = config_file_problem(path)
                if problem is not None:
                    parser.error(problem)
            # An evaluation of a run's checkpoint reads the run's config (needed without --config).
            run_config = run_config_to_read_first(evaluated_checkpoint(command_line))
            if run_config is not None:
                self._check_run_config(parser, run_config)
                args = command_line = with_run_config(list(command_line), run_config, self._run_sections())
        self._parse(parser, args, rewritten=run_config is not None)
        config = self.command_config
        problem = seed_problem(config.get("seed_everything"))  # LightningCLI seeds right after parsing
        if problem is not None:
            parser.error(problem)
        problem = command_experiment_problem(config)
        if problem is not None:
            parser.error(problem)
        if self.config.get("subcommand"):
            problem = consumed_checkpoint_problem(config.get("ckpt_path"))
            if problem is not None:
                raise ValueError(problem)
            named = config.get("ckpt_path")
            resolve_named_checkpoint(config)
            if run_config is None and named != config.get("ckpt_path") and self.config.subcommand != "fit":
                run_config = run_config_to_read_first(config.ckpt_path)  # the run --ckpt_path best|last named
                if run_config is not None and isinstance(command_line, list | tuple):
                    self._check_run_config(parser, run_config)
                    resolved = config.ckpt_path
                    sections = self._run_sections()
                    self._parse(
                        parser, with_run_config(list(command_line), run_config, sections), rewritten=True
                    )
                    config = self.command_config
                    config.ckpt_path = resolved
            if run_config is not None:
                rank_zero_info(
                    f"Reading the run's own config (its model, data, seed and checkpoint settings; your options "
                    f"win): {run_config}"
                )
            self._checkpoint = check_checkpoint_readable(config.get("ckpt_path"))
            if self._checkpoint is not None:
                check_checkpoint_matches_config(self._checkpoint, config.get("model"), config.ckpt_path)
            if self._checkpoint is not None and self.config.subcommand == "fit":
                self._check_resume_asks(list(command_line or ()), config)

    @staticmethod
    def _check_run_config(parser: LightningArgumentParser, run_config: Path) -> None:
        """Stop with the config error's exit code (2) where the run's own config cannot serve."""
        problem = run_config_problem(run_config)
        if problem is not None:
            parser.error(problem)

    def _parse(self, parser: LightningArgumentParser, args, rewritten: bool) -> None:
        """LightningCLI's parse; of a command line litzoo ``rewritten`` (the user's, with the run's config
        read first), without Lightning's warning against giving both ``args`` and command-line options."""
        with warnings.catch_warnings():
            if rewritten:
                warnings.filterwarnings("ignore", message="LightningCLI's args parameter is intended")
            super().parse_arguments(parser, args)

    def _run_sections(self) -> Path:
        """A folder for the run config's sections an evaluation reads, removed when the process ends."""
        folder = Path(tempfile.mkdtemp(prefix="litzoo-run-config-"))
        atexit.register(shutil.rmtree, folder, ignore_errors=True)
        return folder

    def _check_resume_asks(self, command_line: list[str], config: Namespace) -> None:
        """Keep the model options a resume's command line sets, to apply or refuse once the checkpoint's
        record has replaced the model section (:mod:`litzoo.runs.resume_options`)."""
        run = run_folder_of_checkpoint(config.ckpt_path)
        problem = resume_seed_problem(command_line, config.get("seed_everything"), run, config.ckpt_path)
        if problem is not None:
            raise ValueError(problem)
        self._resume_asks = asked_model_options(command_line, config.get("model"))

    def before_instantiate_classes(self) -> None:
        """Settle the config: trainer options that cannot work, the default progress bar, chunked
        clipping, and the run folder (:class:`~litzoo.runs.setup.RunFolder`)."""
        config = self.command_config
        check_lr_find_request(config, self.subcommand)
        problem = trainer_option_problem(config.trainer, self.subcommand)
        if problem is not None:
            self.parser.error(problem)
        default_progress_bar(config)
        clip_chunks_like_the_trainer(config)
        if self._resume_asks:  # the model section is the checkpoint's record now
            differences = resume_differences(self._resume_asks, config.model)
            self._optimizer_changes = split_differences(differences, config.ckpt_path)
            for key in differences:  # the optimizer settings: the task is built (and recorded) with them
                config[key] = self._resume_asks[key]
        if self.subcommand is not None:
            self._stop_on_signals(self.subcommand, lambda: self.run_folder and self.run_folder.path)
        self.run_folder = RunFolder.settle(config, self.subcommand, self._checkpoint)

    def instantiate_classes(self) -> None:
        """Build model, data and trainer, then check that a --ckpt_path fits the data and the model."""
        give_net_config_init_args(self)
        super().instantiate_classes()
        drop_links_the_net_does_not_take(self.model)
        check_net_outputs_fit_data(self.model, self.datamodule)
        if self._checkpoint is not None:
            config = self.command_config
            checkpoint, self._checkpoint = self._checkpoint, None  # memory-mapped; let it go after
            check_checkpoint_fits_data(checkpoint, self.datamodule, config.ckpt_path)
            check_checkpoint_fits_model(checkpoint, self.model, config.ckpt_path)

    def instantiate_trainer(self, **kwargs):
        config = self.command_config
        # --trainer.enable_checkpointing false: Lightning refuses it beside the checkpoint callbacks
        # the CLI always adds (--checkpoint.*, --last_checkpoint.*); they are built and save nothing.
        no_checkpoints = config.trainer.get("enable_checkpointing") is False
        if no_checkpoints:
            kwargs["enable_checkpointing"] = True
        trainer = super().instantiate_trainer(**kwargs)
        use_atomic_checkpoint_io(trainer.strategy)
        keep_no_checkpoints(trainer, asked=no_checkpoints)
        exact_requeue(trainer)
        summarize_the_net(trainer)
        if self._optimizer_changes:
            trainer.callbacks.append(ApplyOptimizerSettings(self._optimizer_changes))
        if self.subcommand == "fit" and config.get("ckpt_path"):
            trainer.callbacks.append(ScheduleLengthCheck())
        if trainer.strategy.root_device.type == "cpu":
            batch_size = samples_per_step(self.model, self.datamodule) or 1
            set_cpu_threads(config.get("cpu_threads"), self.model, self.model.input_shape, batch_size)
        return trainer

    def before_fit(self) -> None:
        """With ``--lr_find true``, train with the learning rate Lightning's LR finder suggests."""
        if self.config.fit.get("lr_find"):
            find_learning_rate(self.trainer, self.model, self.datamodule, self.config.fit)

    def after_fit(self) -> None:
        """End a training run by saying how good it got and where the best checkpoint is."""
        checkpoint = self.trainer.checkpoint_callback
        if self.config.fit.trainer.get("enable_checkpointing") is False:
            rank_zero_info(
                f"No checkpoints kept (--trainer.enable_checkpointing false)\nRun folder: {self.trainer.log_dir}"
            )
            return
        if checkpoint is None or checkpoint.best_model_score is None:
            return
        rank_zero_info(
            f"Best {checkpoint.monitor} = {checkpoint.best_model_score.item():.6g}  "
            f"(checkpoint: {checkpoint.best_model_path})\nRun folder: {self.trainer.log_dir}"
        )

    def after_validate(self) -> None:
        self._say_where_results_went()

    def after_test(self) -> None:
        self._say_where_results_went()

    def _say_where_results_went(self) -> None:
        """End an evaluation with one line naming its folder (rank 0, which reserved it, prints it)."""
        line = None if self.run_folder is None else self.run_folder.results_line(self.subcommand)
        if line is not None:
            rank_zero_info(line)


#: LightningCLI's subcommands, each of which reads :data:`~litzoo.cli.monitoring.DEFAULTS_CONFIG` first.
SUBCOMMANDS = ("fit", "validate", "test", "predict")


def cli_main(
    args: list[str] | None = None,
    run: bool = True,
    callbacks: Sequence[Callback] = (),
    cli_class: type[LitzooCLI] = LitzooCLI,
) -> LitzooCLI:
    """Build (and with ``run``, execute) the CLI; ``args`` as on the command line, ``None`` = sys.argv.

    ``run=False`` takes no subcommand and only instantiates model, data and trainer (benchmarks use it).
    ``callbacks`` join the trainer's own without entering the run's config (a sweep's pruning
    callback); ``cli_class`` may be a subclass of :class:`LitzooCLI` (the sweep's parse-only one).
    """
    skip_gpu_probing_without_gpu()
    silence_known_noise()
    defaults = {"default_config_files": [DEFAULTS_CONFIG]}
    with ending_the_process_group_it_starts():
        return cli_class(
            TaskModule,
            LightningDataModule,
            subclass_mode_model=True,
            subclass_mode_data=True,
            auto_configure_optimizers=False,
            save_config_callback=RunConfigSaver,
            parser_class=LitzooArgumentParser,
            # Every command reads the defaults first; run=False builds one parser without subcommands.
            parser_kwargs={subcommand: defaults for subcommand in SUBCOMMANDS} if run else defaults,
            trainer_defaults={"logger": DEFAULT_LOGGERS, "callbacks": list(callbacks)},
            args=args,
            run=run,
        )
