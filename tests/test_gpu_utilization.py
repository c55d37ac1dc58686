"""scripts/gpu_utilization.py on any machine: its parsing and aggregation on synthetic readings, and its
refusal to run without a GPU. (The measurement itself runs in tests/test_gpu.py, on a GPU.)"""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest

from scripts import gpu_utilization as gu
from tests.conftest import REPO_ROOT

T0 = datetime(2025, 1, 31, 12, 0, 0).timestamp()


def smi_line(seconds: float, utilization: str, memory: str = "1024") -> str:
    """A line as ``nvidia-smi --query-gpu=timestamp,utilization.gpu,memory.used
    --format=csv,noheader,nounits`` prints it, ``seconds`` after T0."""
    stamp = datetime.fromtimestamp(T0 + seconds).strftime("%Y/%m/%d %H:%M:%S.%f")[:-3]  # milliseconds
    return f"{stamp}, {utilization}, {memory}"


def test_nvidia_smi_lines_become_samples_on_the_time_time_clock():
    sample = gu.parse_smi_line(smi_line(1.25, "97", "40536"))
    assert sample == gu.Sample(time=pytest.approx(T0 + 1.25), utilization=97.0, memory_mib=40536.0)


@pytest.mark.parametrize(
    "line",
    ["", "2025/01/31 12:00:00.100, [N/A], [N/A]", "2025/01/31 12:00:00.100, 97", "2025/01/31 12:0"],
    ids=["blank", "not-available", "cut-off", "truncated-time"],
)
def test_lines_without_numbers_are_skipped(line):
    assert gu.parse_smi_line(line) is None


def test_output_keeps_only_the_readable_lines():
    text = "\n".join([smi_line(0.0, "10"), "[N/A], [N/A], [N/A]", smi_line(0.1, "90"), "2025/01"])
    assert [s.utilization for s in gu.parse_smi_output(text)] == [10.0, 90.0]


def test_busy_fraction_averages_the_samples_inside_the_windows_only():
    # 100 ms samples: idle (0%) except 100% from 1.0 s to 1.9 s and 50% from 3.0 s to 3.4 s.
    utilization = {i: 100 if 10 <= i < 20 else 50 if 30 <= i < 35 else 0 for i in range(50)}
    samples = gu.parse_smi_output("\n".join(smi_line(i / 10, str(u)) for i, u in utilization.items()))
    windows = [(T0 + 1.0, T0 + 1.95), (T0 + 3.0, T0 + 3.45)]
    inside = gu.samples_within(samples, windows)
    assert len(inside) == 15
    assert gu.busy_fraction(inside) == pytest.approx((10 * 1.0 + 5 * 0.5) / 15)
    assert gu.busy_fraction(samples) == pytest.approx((10 * 1.0 + 5 * 0.5) / 50)
    assert gu.samples_within(samples, [(T0 + 9, T0 + 10)]) == []
    assert gu.busy_fraction([]) is None


def epochs(*seconds_and_images: tuple[float, int]) -> list[gu.EpochTiming]:
    """Back-to-back epochs, each ``(seconds, images)``."""
    timings, start = [], 100.0
    for seconds, images in seconds_and_images:
        timings.append(gu.EpochTiming(start, start + seconds, images))
        start += seconds + 1.0  # validation in between
    return timings


def test_first_epoch_is_set_apart_from_the_later_ones():
    summary = gu.summarize_epochs(epochs((12.0, 1000), (2.0, 1000), (4.0, 1000), (2.5, 1000)))
    assert summary.first_s == pytest.approx(12.0)
    assert summary.later_median_s == pytest.approx(2.5)
    assert summary.later_images_per_s == pytest.approx(3000 / 8.5)  # all later images over all their time
    assert summary.first_over_later == pytest.approx(12.0 / 2.5)


def test_a_single_epoch_has_no_later_figures_and_no_epoch_is_an_error():
    summary = gu.summarize_epochs(epochs((3.0, 500)))
    assert (summary.first_s, summary.later_median_s, summary.later_images_per_s) == (3.0, None, None)
    assert summary.first_over_later is None
    with pytest.raises(ValueError, match="no training epoch was timed"):
        gu.summarize_epochs([])


def test_arguments_after_the_double_dash_go_to_litzoo_fit():
    own, fit = gu.split_fit_args(["--out", "x.md", "--", "--config", "a.yaml", "--trainer.max_epochs", "3"])
    assert own == ["--out", "x.md"]
    assert fit == ["--config", "a.yaml", "--trainer.max_epochs", "3"]
    own, fit = gu.split_fit_args(["--fake", "100"])
    assert own == ["--fake", "100"]
    assert fit == gu.DEFAULT_FIT_ARGS and "resnet18_fast.yaml" in fit[1] and "gpu.yaml" in fit[3]


def report(**changes) -> gu.Report:
    fields = dict(
        command="python scripts/gpu_utilization.py --fake 10",
        device="NVIDIA Test GPU (80 GiB)",
        software="torch 2.x, CUDA 13.0",
        run="ResNet18, CIFAR10DataModule, batch 512, bf16-mixed",
        epochs=3,
        summary=gu.summarize_epochs(epochs((30.0, 45000), (1.5, 45000), (1.5, 45000))),
        busy_training=0.934,
        busy_samples=28,
        busy_fit=0.71,
        peak_allocated_bytes=3 * gu.GIB,
        peak_used_mib=4608.0,
    )
    return gu.Report(**{**fields, **changes})


def table_rows(table: str) -> dict[str, str]:
    """``{measure: value}`` of the markdown table's body rows."""
    cells = (line.strip("| ").split(" | ") for line in table.splitlines()[6:] if line.startswith("| "))
    return dict(cells)


def test_table_names_the_gpu_and_shows_every_measure():
    table = gu.markdown(report())
    assert "NVIDIA Test GPU (80 GiB)" in table and "`python scripts/gpu_utilization.py --fake 10`" in table
    assert table_rows(table) == {
        "train images/s, epochs 2-3": "30,000",
        "GPU busy while training, epochs 2-3 (28 nvidia-smi samples)": "93.4%",
        "GPU busy over the whole fit (start-up, validation and checkpoints included)": "71.0%",
        "first epoch, training time": "30.00 s",
        "later epochs, median training time (epochs 2-3)": "1.50 s",
        "first epoch / later median": "20.0x",
        "peak memory allocated by PyTorch": "3.00 GiB",
        "peak memory used on the GPU (nvidia-smi, whole process)": "4.50 GiB",
    }


def test_table_says_what_could_not_be_measured():
    table = gu.markdown(
        report(
            epochs=1,
            summary=gu.summarize_epochs(epochs((30.0, 45000))),
            busy_training=None,
            busy_samples=0,
            busy_fit=None,
            peak_used_mib=None,
            smi_problem="No devices were found",
        )
    )
    rows = table_rows(table)
    assert rows["train images/s, epochs 2-N (only one epoch ran)"] == "n/a"
    assert rows["first epoch, training time"] == "30.00 s"
    assert rows["peak memory used on the GPU (nvidia-smi, whole process)"] == "n/a"
    assert sum(value == "n/a" for value in rows.values()) == 6  # all but the first epoch and PyTorch's peak
    assert "nvidia-smi gave no usable sample: No devices were found" in table


def test_without_a_gpu_it_exits_2_with_one_paragraph_and_writes_nothing(tmp_path: Path):
    out = tmp_path / "results" / "gpu.md"
    env = {**os.environ, "CUDA_VISIBLE_DEVICES": "", "PYTHONPATH": str(REPO_ROOT)}
    result = subprocess.run(
        [
            sys.executable,
            str(REPO_ROOT / "scripts" / "gpu_utilization.py"),
            "--out",
            str(out),
            "--fake",
            "10",
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 2, result.stderr
    message = result.stderr.strip()
    assert message.startswith("error: ") and "\n" not in message
    assert "torch.cuda.device_count() == 0" in message and "nothing was trained or written" in message
    assert sorted(tmp_path.iterdir()) == []  # no table, no results/ folder, no run folder


def test_without_nvidia_smi_it_exits_2_before_training(tmp_path: Path, monkeypatch, capsys):
    monkeypatch.setattr(gu.torch.cuda, "device_count", lambda: 1)
    monkeypatch.setattr(gu.shutil, "which", lambda name: None)
    monkeypatch.chdir(tmp_path)
    assert gu.main(["--out", str(tmp_path / "gpu.md")]) == 2
    assert "nvidia-smi, which is not on PATH" in capsys.readouterr().err
    assert sorted(tmp_path.iterdir()) == []
