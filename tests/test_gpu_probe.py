"""A CPU-only run must not pay for GPU probing on every optimizer step."""

from __future__ import annotations

import os

import pytest
import torch

from litzoo.cli.gpu_probe import NVML_CHECK, skip_gpu_probing_without_gpu

no_gpu = pytest.mark.skipif(torch.cuda.device_count() > 0, reason="checks the machine without a GPU")


@no_gpu
@pytest.mark.skipif(not torch.backends.cuda.is_built(), reason="a CPU-only torch build never probes NVML")
def test_optimizer_steps_do_not_probe_nvml_after_the_fix(monkeypatch):
    import lightning  # noqa: F401  (sets the variable, as in every Lightning process)

    monkeypatch.setenv(NVML_CHECK, "1")
    calls = []
    original = torch.cuda._device_count_nvml
    monkeypatch.setattr(torch.cuda, "_device_count_nvml", lambda: calls.append(1) or original())

    net = torch.nn.Linear(4, 4)
    optimizer = torch.optim.Adam(net.parameters())

    def steps(n: int) -> None:
        for _ in range(n):
            optimizer.zero_grad()
            net(torch.randn(8, 4)).sum().backward()
            optimizer.step()

    steps(5)
    assert len(calls) >= 5, "expected the unfixed process to probe NVML on every step"
    assert skip_gpu_probing_without_gpu() is True
    assert os.environ.get(NVML_CHECK) is None
    calls.clear()
    steps(5)
    assert calls == []


def test_keeps_the_check_where_a_gpu_is_found(monkeypatch):
    monkeypatch.setenv(NVML_CHECK, "1")
    monkeypatch.setattr(torch.backends.cuda, "is_built", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 2)
    assert skip_gpu_probing_without_gpu() is False
    assert os.environ[NVML_CHECK] == "1"


def test_leaves_a_cpu_only_torch_build_alone(monkeypatch):
    """Without CUDA in the build there is no probe to skip: the variable stays as Lightning set it."""
    monkeypatch.setenv(NVML_CHECK, "1")
    monkeypatch.setattr(torch.backends.cuda, "is_built", lambda: False)
    assert skip_gpu_probing_without_gpu() is False
    assert os.environ[NVML_CHECK] == "1"
