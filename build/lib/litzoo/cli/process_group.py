"""End the process group a command started, while Python is still fully alive.

Lightning destroys the default process group at exit only for NCCL
(``lightning.fabric.utilities.distributed._init_dist_connection`` registers its atexit handler for
that backend alone). A gloo group (``configs/trainer/ddp_cpu.yaml``, DDP on CPU) is then torn down
during interpreter finalization, where gloo's worker threads can still hold tensors whose release
needs the GIL: the process aborts with "terminate called without an active exception" after the
run has finished (exit status 134, about one 2-process run in five on a 2-core machine; pytorch/pytorch#190489).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import torch.distributed as dist


def process_group_initialized() -> bool:
    return dist.is_available() and dist.is_initialized()


@contextmanager
def ending_the_process_group_it_starts() -> Iterator[None]:
    """Destroy the default process group on leaving, if it was started inside (a caller's own is kept)."""
    started_before = process_group_initialized()
    try:
        yield
    finally:
        if not started_before and process_group_initialized():
            dist.destroy_process_group()
