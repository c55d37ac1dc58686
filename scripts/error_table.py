"""Every bad input litzoo is tested against, and the table of what the user sees for each.

    python scripts/error_table.py            # writes docs/errors.md

The cases (:data:`CASES`: the command, and what its error message must say) are shared by
``tests/test_errors.py``, which asserts the messages, and :func:`main`, which runs each case as a real
command (``python scripts/train.py ...`` in a fresh temporary folder) and keeps the exit code and the
last paragraph of stderr (the error message; a traceback ends with it). Each case runs in an empty
working folder; :func:`prepare_workdir` first writes the files the cases refer to (a small trained
checkpoint, a truncated one, a text file, a config with a typo).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
REGRESSION = str(REPO_ROOT / "configs" / "regression" / "mlp.yaml")
MNIST_LENET = str(REPO_ROOT / "configs" / "mnist" / "lenet5.yaml")
MNIST_CNN = str(REPO_ROOT / "configs" / "mnist" / "simple_cnn.yaml")
SEQUENCE_GRU = str(REPO_ROOT / "configs" / "sequence" / "gru.yaml")

#: Small, quiet runs: the bad input, not the training, is what each case is about.
SMALL = [
    "--data.init_args.train_size", "64", "--data.init_args.val_size", "64", "--data.init_args.test_size", "64",
    "--trainer.max_epochs", "2", "--trainer.enable_progress_bar", "false",
    "--trainer.enable_model_summary", "false",
]  # fmt: skip
QUIET = ["--trainer.enable_progress_bar", "false", "--trainer.enable_model_summary", "false"]

#: Files :func:`prepare_workdir` writes into the working folder.
GOOD_CKPT = "good.ckpt"
TRUNCATED_CKPT = "truncated.ckpt"
TEXT_CKPT = "notes.ckpt"
NAN_CKPT = "flipped.ckpt"
TYPO_CONFIG = "typo.yaml"
BROKEN_YAML = "broken.yaml"
EMPTY_CONFIG = "empty.yaml"
LATIN1_CONFIG = "latin1.yaml"
#: Small MNIST copies in the working folder, each with one fault (see :func:`prepare_workdir`).
DAMAGED_MNIST, SHIFTED_LABELS_MNIST, LARGE_IMAGES_MNIST = (
    "mnist_truncated",
    "mnist_labels_1_to_10",
    "mnist_32x32",
)
MNIST_FROM = [
    "--data.init_args.download",
    "false",
    "--data.init_args.val_size",
    "100",
    "--data.init_args.data_dir",
]

#: jsonargparse's exit code for a command line or config it rejects.
PARSER_ERROR = 2

#: Sweep cases: a space whose learning rate Adam refuses, and sweep folders (of the experiment
#: ``sweep_record``) whose study.db was emptied or damaged beside earlier trials' records.
NEGATIVE_LR_SPACE = "negative_lr.yaml"
SWEEP_RECORD = [
    "--experiment",
    "sweep_record",
    "--space",
    str(REPO_ROOT / "configs" / "search" / "regression_mlp.yaml"),
]
SWEEP_RECORD_FOLDER = "lightning_logs/sweep_record/sweep-{study}"


@dataclass(frozen=True)
class BadInput:
    """One bad input: ``python scripts/train.py <args>`` must fail with a message containing ``expect``.

    ``exit_code`` is the exact code expected, or ``None`` for "any non-zero code" (an exception's
    traceback exits with 1).
    """

    case: str
    args: tuple[str, ...]
    expect: tuple[str, ...]
    exit_code: int | None = None


CASES: tuple[BadInput, ...] = (
    BadInput(
        "unknown option",
        ("fit", "--config", REGRESSION, *SMALL, "--trainer.max_epochz", "3"),
        ("--trainer.max_epochz: there is no such option. Did you mean --trainer.max_epochs?",),
        PARSER_ERROR,
    ),
    BadInput(
        "mistyped option of the data",
        ("fit", "--config", REGRESSION, *SMALL, "--data.init_args.batch_sise", "32"),
        ("has no option 'batch_sise'. Did you mean --data.init_args.batch_size?",),
        PARSER_ERROR,
    ),
    BadInput(
        "unknown key in a config file",
        ("fit", "--config", REGRESSION, "--config", TYPO_CONFIG, *SMALL),
        (
            "--trainer.max_epochz (in a config file): there is no such option. Did you mean --trainer.max_epochs?",
        ),
        PARSER_ERROR,
    ),
    BadInput(
        "wrong type",
        ("fit", "--config", REGRESSION, *SMALL, "--trainer.max_epochs", "many"),
        ("--trainer.max_epochs: expected int, got 'many'.",),
        PARSER_ERROR,
    ),
    BadInput(
        "unknown class_path",
        ("fit", "--config", REGRESSION, *SMALL, "--model.init_args.net", "litzoo.models.NoSuchNet"),
        ("--model.init_args.net: there is no class litzoo.models.NoSuchNet", "Classes there: AlexNet,"),
        PARSER_ERROR,
    ),
    BadInput(
        "missing required value",
        ("fit", "--config", REGRESSION, *SMALL, "--model.init_args.net.init_args.hidden_sizes", "null"),
        ("--model.init_args.net.init_args.hidden_sizes: expected Sequence, got None.",),
        PARSER_ERROR,
    ),
    BadInput(
        "inconsistent architecture values",
        ("fit", "--config", REGRESSION, *SMALL, "--model.init_args.net.init_args.depth", "3"),
        ("depth=3", "hidden sizes"),
    ),
    BadInput(
        "image net on sequence data",
        ("fit", "--config", SEQUENCE_GRU, *QUIET, "--model.init_args.net", "litzoo.models.SimpleCNN"),
        ("SimpleCNN", "(10, 5)"),
    ),
    BadInput(
        "net without num_outputs whose output is not (batch, outputs)",
        (
            "fit",
            "--config",
            REGRESSION,
            *SMALL,
            "--model.init_args.net",
            "torch.nn.Flatten",
            "--model.init_args.net.init_args.start_dim",
            "0",
        ),
        ("Flatten has no num_outputs attribute", "is not one (batch, outputs) tensor"),
    ),
    BadInput(
        "fixed-size net on the wrong image size",
        ("fit", "--config", MNIST_LENET, *QUIET, "--data.init_args.pad_to", "null"),
        ("LeNet5", "28x28", "pad_to"),
    ),
    BadInput(
        "dataset files missing, download off",
        (
            "fit",
            "--config",
            MNIST_CNN,
            *QUIET,
            "--data.init_args.data_dir",
            "no_data",
            "--data.init_args.download",
            "false",
        ),
        ("no_data",),
    ),
    BadInput(
        "no training batches",
        ("fit", "--config", REGRESSION, *SMALL, "--trainer.limit_train_batches", "0"),
        ("--trainer.limit_train_batches 0.0 trains nothing",),
        PARSER_ERROR,
    ),
    BadInput(
        "validation every 0 epochs",
        ("fit", "--config", REGRESSION, *SMALL, "--trainer.check_val_every_n_epoch", "0"),
        ("--trainer.check_val_every_n_epoch 0 is not a number of epochs",),
        PARSER_ERROR,
    ),
    BadInput(
        "no devices",
        ("fit", "--config", REGRESSION, *SMALL, "--trainer.devices", "0"),
        ("--trainer.devices 0 asks for no device",),
        PARSER_ERROR,
    ),
    BadInput(
        "seed out of range",
        ("fit", "--config", REGRESSION, *SMALL, "--seed_everything", "-1"),
        ("--seed_everything -1 is outside the seeds numpy accepts",),
        PARSER_ERROR,
    ),
    BadInput(
        "empty validation split",
        ("fit", "--config", REGRESSION, *SMALL, "--data.init_args.val_size", "0"),
        ("val_size must be at least 2", "Set --data.init_args.val_size to 2 or more."),
    ),
    BadInput(
        "one-sample training split",
        ("fit", "--config", REGRESSION, *SMALL, "--data.init_args.train_size", "1"),
        ("train_size must be at least 2 (a split's R² needs two samples), got 1.",),
    ),
    BadInput(
        "diverging run (learning rate 1e6)",
        ("fit", "--config", REGRESSION, *SMALL, "--model.init_args.optimizer.lr", "1e6"),
        ("Training diverged", "learning rate", "gradient_clip_val"),
    ),
    BadInput(
        "image to predict is not an image",
        ("predict", "--config", MNIST_LENET, *QUIET, "--data.init_args.predict_path", TEXT_CKPT),
        (f"{TEXT_CKPT} cannot be read as an image", "--data.init_args.skip_unreadable true"),
    ),
    BadInput(
        "images to predict not found",
        ("predict", "--config", MNIST_LENET, *QUIET, "--data.init_args.predict_path", "my_digits/"),
        ("predict_path my_digits/: no such file or folder",),
    ),
    BadInput(
        "checkpoint path does not exist",
        ("fit", "--config", REGRESSION, *SMALL, "--ckpt_path", "missing.ckpt"),
        ("Checkpoint not found", "missing.ckpt"),
    ),
    BadInput(
        "checkpoint path is a folder",
        ("test", "--config", REGRESSION, *SMALL, "--ckpt_path", "."),
        ("Checkpoint not found: --ckpt_path . is a folder, not a checkpoint file.",),
    ),
    BadInput(
        "checkpoint is a text file",
        ("fit", "--config", REGRESSION, *SMALL, "--ckpt_path", TEXT_CKPT),
        ("Cannot read checkpoint", TEXT_CKPT),
    ),
    BadInput(
        "checkpoint is truncated",
        ("test", "--config", REGRESSION, *SMALL, "--ckpt_path", TRUNCATED_CKPT),
        ("Cannot read checkpoint", TRUNCATED_CKPT),
    ),
    BadInput(
        "YAML syntax error in a second --config",
        ("fit", "--config", REGRESSION, "--config", BROKEN_YAML, *SMALL),
        (f"Config file {BROKEN_YAML} is not valid YAML at line 3",),
        PARSER_ERROR,
    ),
    BadInput(
        "no config at all",
        ("fit",),
        ("fit needs --data, --model: give an experiment config",),
        PARSER_ERROR,
    ),
    BadInput(
        "config file does not exist",
        ("fit", "--config", "configs/nothere.yaml", *SMALL),
        ("--config configs/nothere.yaml: no such file (looked for ",),
        PARSER_ERROR,
    ),
    BadInput(
        "empty config file",
        ("fit", "--config", REGRESSION, "--config", EMPTY_CONFIG, *SMALL),
        (f"Config file {EMPTY_CONFIG} is empty",),
        PARSER_ERROR,
    ),
    BadInput(
        "config file not in UTF-8",
        ("fit", "--config", REGRESSION, "--config", LATIN1_CONFIG, *SMALL),
        (f"Config file {LATIN1_CONFIG} is not UTF-8 text", "line 2"),
        PARSER_ERROR,
    ),
    BadInput(
        "negative max_epochs",
        ("fit", "--config", REGRESSION, *SMALL, "--trainer.max_epochs", "-5"),
        ("--trainer.max_epochs -5 is not a number of epochs",),
        PARSER_ERROR,
    ),
    BadInput(
        "max_epochs 0",
        ("fit", "--config", REGRESSION, *SMALL, "--trainer.max_epochs", "0"),
        ("--trainer.max_epochs 0 trains nothing",),
        PARSER_ERROR,
    ),
    BadInput(
        "damaged MNIST file",
        ("fit", "--config", MNIST_CNN, *QUIET, *MNIST_FROM, DAMAGED_MNIST),
        ("MNISTDataModule: the dataset files in", "damaged or incomplete", "--data.init_args.download true"),
    ),
    BadInput(
        "labels outside the classes",
        ("fit", "--config", MNIST_CNN, *QUIET, *MNIST_FROM, SHIFTED_LABELS_MNIST),
        ("labels run from 1 to 10", "numbered 0..9"),
    ),
    BadInput(
        "images of another size than the model reads",
        ("test", "--config", MNIST_CNN, *QUIET, *MNIST_FROM, LARGE_IMAGES_MNIST),
        ("the test images are 1x32x32, but MNISTDataModule reads 1x28x28",),
    ),
    BadInput(
        "val_size larger than the dataset",
        (
            "fit",
            "--config",
            MNIST_CNN,
            *QUIET,
            *MNIST_FROM[:-3],
            "--data.init_args.val_size",
            "5000",
            "--data.init_args.data_dir",
            SHIFTED_LABELS_MNIST,
        ),
        ("val_size=5000 leaves", "--data.init_args.val_size"),
    ),
    BadInput(
        "checkpoint of another net",
        ("fit", "--config", SEQUENCE_GRU, *QUIET, "--ckpt_path", GOOD_CKPT),
        (
            "another model",
            "litzoo.models.Feedforward in the checkpoint vs litzoo.models.RecurrentNet",
            GOOD_CKPT,
        ),
    ),
    BadInput(
        "test a checkpoint of other architecture values",
        (
            "test",
            "--config",
            REGRESSION,
            *SMALL,
            "--model.init_args.net.init_args.hidden_sizes",
            "[8, 8, 8]",
            "--ckpt_path",
            GOOD_CKPT,
        ),
        ("another model", "net.hidden_sizes [64, 64, 64] in the checkpoint vs [8, 8, 8] in the config"),
    ),
    # issue 28: faults (NaN weights in a checkpoint, the NaN guard's interval)
    BadInput(
        "checkpoint with an inf weight (a flipped bit)",
        ("test", "--config", REGRESSION, *SMALL, "--ckpt_path", NAN_CKPT),
        (
            f"Checkpoint {NAN_CKPT} holds non-finite weights: net.layers.1.weight has 1 NaN/inf of 4,096 values",
        ),
        exit_code=1,
    ),
    BadInput(
        "negative NaN-guard interval",
        ("fit", "--config", REGRESSION, *SMALL, "--nan_guard.check_every_n_steps", "-1"),
        ("--nan_guard.check_every_n_steps -1: give 1 or more", "or 0 to check only the weights"),
        exit_code=1,
    ),
    # issue 28: sweeps (a lost or damaged study storage beside the record, a value the optimizer refuses)
    BadInput(
        "sweep whose study.db was emptied beside its trials.csv",
        ("sweep", "--config", REGRESSION, *SMALL, *SWEEP_RECORD, "--study", "emptied", "--trials", "2"),
        (
            f"{SWEEP_RECORD_FOLDER.format(study='emptied')} holds trials.csv and best.yaml from earlier trials",
            "/study.db is empty (0 bytes), so this sweep would lose that record",
            "or name a new study with --study NEW_NAME.",
        ),
        exit_code=1,
    ),
    BadInput(
        "sweep whose study.db is damaged",
        ("sweep", "--config", REGRESSION, *SMALL, *SWEEP_RECORD, "--study", "damaged", "--trials", "2"),
        (
            f"{SWEEP_RECORD_FOLDER.format(study='damaged')}/study.db is damaged: not a valid SQLite database",
            "or name a new study with --study NEW_NAME.",
        ),
        exit_code=1,
    ),
    BadInput(
        "sweep space with a learning rate the optimizer refuses",
        ("sweep", "--config", REGRESSION, *SMALL, "--space", NEGATIVE_LR_SPACE, "--trials", "2"),
        (
            f"--space {NEGATIVE_LR_SPACE}: model.init_args.optimizer.init_args.lr: the config rejects the value -1.0",
            "torch.optim.Adam refuses it: Invalid learning rate: -1.0",
        ),
        PARSER_ERROR,
    ),
    # issue 28: export (a format and a suffix that disagree, -o onto a folder, NaN/inf weights)
    BadInput(
        "export format and output suffix disagree",
        ("export", GOOD_CKPT, "--format", "torchscript", "-o", "model.onnx"),
        ("--format torchscript writes TorchScript, but -o model.onnx has the suffix of ONNX files (.onnx)",),
        PARSER_ERROR,
    ),
    BadInput(
        "export onto a folder",
        ("export", GOOD_CKPT, "--format", "pt2", "-o", "."),
        ("-o . is a folder; give the file to write",),
        PARSER_ERROR,
    ),
    BadInput(
        "export of a checkpoint with an inf weight",
        ("export", NAN_CKPT, "--format", "pt2"),
        (f"Checkpoint {NAN_CKPT} holds non-finite weights: net.layers.1.weight",),
        PARSER_ERROR,
    ),
    # issue 28: bounded input (a YAML "billion laughs", --experiment outside the log folder)
    BadInput(
        "YAML billion laughs (nine nested aliases) as a config",
        (
            "fit",
            "--config",
            REGRESSION,
            *SMALL,
            "--config={a: &a [x, x, x, x, x, x, x, x, x], "
            "b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a], c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b], "
            "d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c], e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d], "
            "f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e], g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f], "
            "h: &h [*g, *g, *g, *g, *g, *g, *g, *g, *g], i: &i [*h, *h, *h, *h, *h, *h, *h, *h, *h]}",
        ),
        ("expands too far: its YAML aliases", "into 490,329,064, more than the 100,000 a config may hold"),
        PARSER_ERROR,
    ),
    BadInput(
        "--experiment that climbs out of the log folder",
        ("fit", "--config", REGRESSION, *SMALL, "--experiment", ".."),
        ("--experiment .. climbs out of the log folder", "give a plain name such as lenet5_small"),
        PARSER_ERROR,
    ),
    BadInput(
        "--experiment an absolute path",
        ("fit", "--config", REGRESSION, *SMALL, "--experiment", "/tmp/elsewhere"),
        ("--experiment /tmp/elsewhere is an absolute path, outside the log folder",),
        PARSER_ERROR,
    ),
    # issue 28: resume (an option a resume cannot apply, a checkpoint of no run for best/last)
    BadInput(
        "resume with a model option the checkpoint overrides",
        (
            "fit",
            "--config",
            REGRESSION,
            *SMALL,
            "--ckpt_path",
            GOOD_CKPT,
            "--model.init_args.scheduler",
            "torch.optim.lr_scheduler.StepLR",
            "--model.init_args.scheduler.step_size",
            "1",
        ),
        (
            "rebuilds the model as the checkpoint recorded it",
            "--model.init_args.scheduler",
            "start a new run",
        ),
    ),
    BadInput(
        "--ckpt_path last without a training run",
        ("test", "--config", REGRESSION, *SMALL, "--ckpt_path", "last"),
        ("No training run with checkpoints under lightning_logs/regression/mlp",),
    ),
)


def prepare_workdir(workdir: Path) -> None:
    """Write the files the cases use into ``workdir``: a trained checkpoint and broken variants of it.

    The checkpoint comes from a tiny in-process fit of the regression config, under ``scratch/``
    so that no run folder is left where the cases run.
    """
    from litzoo.cli.lightning_cli import cli_main  # imported here: the case list itself needs no Lightning

    scratch = workdir / "scratch"
    scratch.mkdir()
    old = Path.cwd()
    os.chdir(scratch)
    try:
        cli = cli_main(["fit", "--config", REGRESSION, *SMALL])
    finally:
        os.chdir(old)
    shutil.copyfile(scratch / cli.trainer.checkpoint_callback.best_model_path, workdir / GOOD_CKPT)
    shutil.rmtree(scratch)
    data = (workdir / GOOD_CKPT).read_bytes()
    (workdir / TRUNCATED_CKPT).write_bytes(data[: len(data) // 2])
    (workdir / TEXT_CKPT).write_text("these are my notes, not a checkpoint\n")
    write_flipped_checkpoint(workdir / GOOD_CKPT, workdir / NAN_CKPT)
    (workdir / TYPO_CONFIG).write_text("trainer:\n  max_epochz: 3\n")
    (workdir / BROKEN_YAML).write_text("trainer:\n  max_epochs: [3\n")
    (workdir / EMPTY_CONFIG).write_text("")
    (workdir / LATIN1_CONFIG).write_bytes("trainer:\n  max_epochs: 3  # café\n".encode("latin-1"))
    write_mnist_variants(workdir)
    write_sweep_cases(workdir)


def write_sweep_cases(workdir: Path) -> None:
    """A space with a negative learning rate, and two sweep folders with trials.csv and best.yaml of earlier
    trials beside a study.db that is empty in one, not a database in the other."""
    (workdir / NEGATIVE_LR_SPACE).write_text(
        "model.init_args.optimizer.init_args.lr: {type: float, low: -1.0, high: 1.0}\n"
    )
    for study, content in (("emptied", b""), ("damaged", b"not a database " * 100)):
        folder = workdir / SWEEP_RECORD_FOLDER.format(study=study)
        folder.mkdir(parents=True)
        (folder / "trials.csv").write_text("number,state,value,run_folder\n0,COMPLETE,0.25,\n")
        (folder / "best.yaml").write_text("# Best trial (0)\n")
        (folder / "study.db").write_bytes(content)


def write_flipped_checkpoint(good: Path, flipped: Path) -> None:
    """``good`` with one weight made inf, as a flipped exponent bit does (the file itself stays readable)."""
    import torch  # imported here: the case list itself needs no torch

    state = torch.load(good, weights_only=False)
    state["state_dict"]["net.layers.1.weight"][3, 5] = float("inf")
    torch.save(state, flipped)


def write_mnist_variants(workdir: Path) -> None:
    """Three small MNIST copies, each with one fault: a truncated image file, labels 1..10, 32x32 images."""
    import numpy as np

    from litzoo.dataset_files import IDX_IMAGES_MAGIC, IDX_LABELS_MAGIC, write_idx, write_mnist

    raw = write_mnist(workdir / DAMAGED_MNIST) / "MNIST" / "raw"
    images = raw / "train-images-idx3-ubyte"
    images.write_bytes(images.read_bytes()[:1000])
    raw = write_mnist(workdir / SHIFTED_LABELS_MNIST) / "MNIST" / "raw"
    for prefix, n in (("train", 600), ("t10k", 200)):
        write_idx(
            raw / f"{prefix}-labels-idx1-ubyte", IDX_LABELS_MAGIC, (np.arange(n) % 10 + 1).astype(np.uint8)
        )
    raw = write_mnist(workdir / LARGE_IMAGES_MNIST) / "MNIST" / "raw"
    write_idx(raw / "t10k-images-idx3-ubyte", IDX_IMAGES_MAGIC, np.zeros((200, 32, 32), dtype=np.uint8))


TRAIN = REPO_ROOT / "scripts" / "train.py"
OUTPUT = REPO_ROOT / "docs" / "errors.md"
#: A bad input must fail at once; anything slower is itself a bug worth seeing as a timeout.
CASE_TIMEOUT_S = 300


def last_paragraph(stderr: str) -> str:
    """The error message: the last block of stderr, from a traceback's final line or parser ``error:``.

    Lightning's and Python's warnings printed before the error are left out.
    """
    lines = [line.rstrip() for line in stderr.strip().splitlines()]
    for marker in ("error:", "Error:", "Exception:"):
        starts = [i for i, line in enumerate(lines) if marker in line and not line.startswith(" ")]
        if starts:
            return "\n".join(lines[starts[-1] :]).strip()
    return "\n".join(lines[-3:])


def run_case(case: BadInput, workdir: Path) -> tuple[int, str]:
    """Exit code and error message of ``python scripts/train.py <case.args>`` run in ``workdir``."""
    result = subprocess.run(
        [sys.executable, str(TRAIN), *case.args],
        cwd=workdir,
        capture_output=True,
        text=True,
        timeout=CASE_TIMEOUT_S,
    )
    # The temporary folder's name changes every run; the table shows it as <workdir>.
    return result.returncode, last_paragraph(result.stderr).replace(str(workdir.resolve()), "<workdir>")


def shown_command(case: BadInput) -> str:
    """The command as a user would type it: repository-relative configs, no test-speed options."""
    args = [a.replace(f"{REPO_ROOT}/", "") for a in case.args]
    return "python scripts/train.py " + " ".join(args)


def markdown_row(*cells: str) -> str:
    return "| " + " | ".join(c.replace("|", "\\|").replace("\n", "<br>") for c in cells) + " |"


def main() -> None:
    rows = [markdown_row("case", "command", "exit code", "message"), "|---|---|---|---|"]
    with tempfile.TemporaryDirectory() as tmp:
        prepare_dir = Path(tmp) / "files"
        prepare_dir.mkdir()
        prepare_workdir(prepare_dir)
        for number, case in enumerate(CASES):
            workdir = Path(tmp) / f"case{number}"
            workdir.mkdir()
            shutil.copytree(prepare_dir, workdir, dirs_exist_ok=True)
            code, message = run_case(case, workdir)
            print(f"{case.case}: exit {code}", flush=True)
            rows.append(markdown_row(case.case, f"`{shown_command(case)}`", str(code), f"`{message}`"))
    OUTPUT.parent.mkdir(exist_ok=True)
    OUTPUT.write_text(
        "# What the user sees on bad input\n\n"
        "Generated by `python scripts/error_table.py` from the `CASES` list in `scripts/error_table.py` (which "
        "`tests/test_errors.py` checks). Test-speed options (`--data.init_args.train_size 64` ...) are "
        "part of the commands. Exit code 2: the command line or config was rejected before anything "
        "ran; 1: bad input found while building or running the model, reported as one `error:` "
        "paragraph (`LITZOO_TRACEBACK=1` shows the traceback as well). A run that fails before its first training "
        "step leaves no run folder behind (whatever failed: config, data setup, checkpoint); only the diverging "
        "run, which trained, keeps its folder with its logs and last finite checkpoint.\n\n"
        + "\n".join(rows)
        + "\n"
    )
    print(f"wrote {OUTPUT}")


if __name__ == "__main__":
    main()
