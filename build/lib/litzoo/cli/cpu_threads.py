"""How many CPU threads a run's PyTorch operations use: one for small training steps, PyTorch's default otherwise.

PyTorch splits each large operation across all cores (intra-op threads) and keeps those threads
spinning between operations. For the small steps of the tutorials' models (the sin(1/x) MLP, the
MNIST MLPs and small CNNs at batch 64) each operation is too small to split profitably: the threads
only synchronise, and on a machine whose cores other processes also use, the spinning threads steal
the time the training needs (the README's first command, 200 epochs on a shared 2-core machine:
233.6 s with the default threads, 34.5 s with one). ``scripts/cpu_threads.py`` measures the step
time of every config at each thread count; :data:`ONE_THREAD_BELOW_FLOPS` is where one thread
stops being at least as fast.

The rule applies only to CPU runs and only when the user chose nothing: ``--cpu_threads N`` sets N,
and an ``OMP_NUM_THREADS`` in the environment is left in force.
"""

from __future__ import annotations

import os

import torch
from lightning.pytorch.utilities.rank_zero import rank_zero_info
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

#: Floating-point operations per training step (forward and backward) below which one thread is used.
#: Measured with ``scripts/cpu_threads.py`` on the quiet 2-core machine (``results/cpu_threads.md``):
#: the sin(1/x) MLP (3.2 MFLOP) steps faster on one thread than on two, the sequence LSTM (10 MFLOP)
#: as fast; from the MNIST MLP (64 MFLOP) up, two threads are faster (LeNet-5, 145 MFLOP: 3.8 ms
#: against 6.1). On a machine whose cores other processes use, one thread is better for those too:
#: set ``OMP_NUM_THREADS=1`` there (README "Speed").
ONE_THREAD_BELOW_FLOPS = 30e6
#: Samples the FLOPs are counted on; scaled to the step's batch (these nets' cost is linear in it).
COUNTED_SAMPLES = 2
THREADS_VARIABLE = "OMP_NUM_THREADS"


#: A training step's multiply-adds per weight per sample and time step: 2 FLOPs forward, 4 backward.
FLOPS_PER_WEIGHT_USE = 6


def recurrent_flops(net: nn.Module, inputs: torch.Tensor) -> int:
    """FLOPs of ``net``'s recurrent layers for ``inputs``, which ``FlopCounterMode`` does not count.

    PyTorch's CPU LSTM/GRU/RNN kernels run as single fused operations the flop counter has no formula
    for; each weight is used once per sample and time step, forward and backward.
    """
    total = 0

    def count(module: nn.RNNBase, args: tuple, _output: object) -> None:
        nonlocal total
        sequence = args[0]
        samples_times_steps = (
            sequence.shape[0] * sequence.shape[1] if sequence.dim() == 3 else sequence.shape[0]
        )
        weights = sum(p.numel() for name, p in module.named_parameters() if name.startswith("weight"))
        total += FLOPS_PER_WEIGHT_USE * weights * samples_times_steps

    hooks = [m.register_forward_hook(count) for m in net.modules() if isinstance(m, nn.RNNBase)]
    try:
        with torch.no_grad():
            net(inputs)
    finally:
        for hook in hooks:
            hook.remove()
    return total


def training_step_flops(net: nn.Module, inputs: torch.Tensor) -> int:
    """Floating-point operations of one forward and backward pass of ``net`` over the batch ``inputs``.

    Counted on :data:`COUNTED_SAMPLES` samples in eval mode (no batch-norm statistics updated, no dropout
    drawn from the RNG, so training is untouched), then scaled to the batch; gradients are cleared after.
    """
    sample = inputs[:COUNTED_SAMPLES]
    was_training = net.training
    net.eval()
    try:
        with FlopCounterMode(display=False) as counter:
            net(sample).float().sum().backward()
        flops = counter.get_total_flops() + recurrent_flops(net, sample)
    finally:
        net.train(was_training)
        net.zero_grad(set_to_none=True)
    return round(flops * len(inputs) / len(sample))


def auto_cpu_threads(step_flops: int) -> int | None:
    """One thread for a step under :data:`ONE_THREAD_BELOW_FLOPS`, else ``None`` (PyTorch's default)."""
    return 1 if step_flops < ONE_THREAD_BELOW_FLOPS else None


def set_cpu_threads(
    requested: int | None, net: nn.Module, input_shape: tuple[int, ...], batch_size: int
) -> None:
    """Apply ``--cpu_threads``: ``requested`` threads, or with ``None`` the automatic choice.

    The automatic choice steps aside when ``OMP_NUM_THREADS`` is set: the user has already chosen.
    """
    if requested is not None:
        if requested < 1:
            raise ValueError(
                f"--cpu_threads {requested}: give a number of threads of at least 1, or null (the default) "
                "to let litzoo choose from the size of the training step."
            )
        torch.set_num_threads(requested)
        return
    if os.environ.get(THREADS_VARIABLE):
        return
    inputs = torch.zeros(min(batch_size, COUNTED_SAMPLES), *input_shape)
    flops = training_step_flops(net, inputs) * batch_size // len(inputs)
    threads = auto_cpu_threads(flops)
    if threads is not None and threads != torch.get_num_threads():
        torch.set_num_threads(threads)
        rank_zero_info(f"CPU threads: {threads} for {flops / 1e6:.3g} MFLOP steps (--cpu_threads N)")
