"""Guards against bad input and faults: clear errors before training, safe checkpoints, clean interruption."""

from litzoo.faults.atomic_io import AtomicCheckpointIO, use_atomic_checkpoint_io
from litzoo.faults.checkpoint_checks import (
    check_checkpoint_fits_data,
    check_checkpoint_fits_model,
    check_checkpoint_matches_config,
    check_checkpoint_readable,
)
from litzoo.faults.data_checks import DataSanityCheck
from litzoo.faults.interrupt import SaveOnInterrupt
from litzoo.faults.nan_guard import NonFiniteLossGuard
from litzoo.models.tasks.net_checks import check_net_fits_data

__all__ = [
    "AtomicCheckpointIO",
    "DataSanityCheck",
    "NonFiniteLossGuard",
    "SaveOnInterrupt",
    "check_checkpoint_fits_data",
    "check_checkpoint_fits_model",
    "check_checkpoint_matches_config",
    "check_checkpoint_readable",
    "check_net_fits_data",
    "use_atomic_checkpoint_io",
]
