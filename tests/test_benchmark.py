"""scripts/benchmark.py runs its per-step variants and writes the comparison table (no timings asserted)."""

from __future__ import annotations

import re
import subprocess
import sys

import numpy as np

from litzoo.datamodules.sin_inverse import TUTORIAL_SEED, sin_inverse_samples
from scripts import benchmark
from tests.conftest import REPO_ROOT


def test_step_case_writes_every_variant_against_the_plain_loop(in_tmp_dir, monkeypatch):
    monkeypatch.setattr(benchmark, "FAKE_MNIST_TRAIN", 3000)  # enough for two chunked loads
    out = in_tmp_dir / "results" / "bench.md"
    benchmark.main(
        [
            "--cases",
            "lenet5",
            "--repeats",
            "1",
            "--warmup",
            "16",
            "--steps",
            "16",
            "--out",
            "results/bench.md",
        ]
    )
    rows = [line.split(" | ") for line in out.read_text().splitlines() if line.startswith("| lenet5")]
    variants = [row[1] for row in rows]
    assert variants == [
        "litzoo (as scripts/train.py builds it: one Lightning step per batch)",
        "litzoo + configs/speed/chunked.yaml (opt-in)",
        "plain PyTorch loop, in-memory data",
        "tutorial loop (torchvision transforms + DataLoader)",
    ]
    for variant, median, ratio in ((row[1], row[2], row[3]) for row in rows):
        assert float(median.removesuffix(" steps/s")) > 0, variant
        expected = "reference" if "plain" in variant else r"\d+\.\d\dx"
        assert re.fullmatch(expected, ratio), (variant, ratio)
    assert not out.with_suffix(".tmp").exists()
    # Its training runs wrote into its own temporary folder, not among the user's runs.
    assert sorted(p.name for p in in_tmp_dir.iterdir()) == ["results"]


def test_sin_case_times_whole_processes_and_notes_their_peak_memory(in_tmp_dir):
    out = in_tmp_dir / "bench.md"
    benchmark.main(["--cases", "sin", "--sin-epochs", "2", "--repeats", "1", "--out", str(out)])
    rows = [line.split(" | ") for line in out.read_text().splitlines() if line.startswith("| sin(1/x)")]
    assert [row[1] for row in rows] == [
        "tutorial loop, as written (Dataset + DataLoader)",
        "hand-optimized plain loop (in-memory batches)",
        "litzoo regression/mlp.yaml",
    ]
    notes = [re.search(r"best val MSE (\S+); peak memory (\d+) MiB \((\d+\.\d\d)x\)", row[5]) for row in rows]
    assert all(notes), [row[5] for row in rows]
    assert notes[0][3] == "1.00"  # the tutorial loop is the memory reference
    # Each process's own peak: a Python process with torch imported takes tens of MiB at least.
    assert all(int(note[2]) > 50 for note in notes)
    assert all(float(note[1]) > 0 for note in notes)


def test_the_hand_optimized_reference_trains_on_the_tutorials_samples_without_lightning():
    """Its time is plain PyTorch's: no Lightning start-up, and the samples of the tutorial and litzoo."""
    code = (
        "import sys, numpy as np; from scripts import sin_fast_loop as loop; "
        "np.random.seed(loop.TUTORIAL_SEED); x, y = loop.samples(); "
        "print('lightning' in sys.modules, float(x.sum()), float(y.sum()))"
    )
    lightning, x_sum, y_sum = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True, text=True, check=True, timeout=600
    ).stdout.split()
    assert lightning == "False"
    x, y = sin_inverse_samples(2000, np.random.RandomState(TUTORIAL_SEED))
    assert (float(x_sum), float(y_sum)) == (float(x.sum()), float(y.sum()))


def test_startup_case_times_the_command_with_and_without_its_frozen_imports(in_tmp_dir):
    out = in_tmp_dir / "bench.md"
    benchmark.main(["--cases", "startup", "--repeats", "1", "--out", str(out)])
    rows = [line.split(" | ") for line in out.read_text().splitlines() if line.startswith("| start-up")]
    assert [row[1] for row in rows] == [
        "tutorial loop, as written, 1 epoch",
        "litzoo regression/mlp.yaml, 1 epoch",
        "the same, litzoo.cli.lightning_cli imported without litzoo.startup",
    ]
    assert rows[0][3] == "reference" and all(row[3].endswith("x") for row in rows[1:])
    # All three trained the same first epoch of the same net on the same samples.
    assert len({re.search(r"best val MSE (\S+);", row[5])[1] for row in rows}) == 1
