"""Keep what a normal run prints to what a user can act on: known-harmless messages are dropped by their text.

Only the messages listed here, matched on their wording, never whole categories: a new warning from
Lightning or PyTorch still shows. Each entry says why it is harmless in litzoo.
"""

from __future__ import annotations

import logging
import warnings

#: (start of the message, why it does not concern a litzoo user)
HARMLESS_WARNINGS: tuple[tuple[str, str], ...] = (
    (
        r"`isinstance\(treespec, LeafSpec\)` is deprecated",
        "Lightning's own use of a torch internal; nothing in the user's code or config causes it",
    ),
    (
        r"The number of training batches \(\d+\) is smaller than the logging interval",
        "litzoo logs its metrics once per epoch, so the step-logging interval never matters",
    ),
    (
        r"The dirpath has changed from",
        "an evaluation run restores the training run's checkpoint callback state; it saves nothing",
    ),
)
#: Lightning's informational lines that advertise rather than inform.
ADVERTS = ("💡 Tip:",)
#: Lightning's informational lines that repeat the line before them: an evaluation prints
#: "Restoring states from the checkpoint path at X", then "Loaded model weights from the checkpoint at X".
REPEATS = ("Loaded model weights from the checkpoint at",)
RANK_ZERO_LOGGER = "lightning.pytorch.utilities.rank_zero"


class DropNoiseLines(logging.Filter):
    """Drops log records whose message starts with one of :data:`ADVERTS` or :data:`REPEATS`."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith((*ADVERTS, *REPEATS))


def silence_known_noise() -> None:
    """Install the filters (idempotent: the warnings registry and the logger keep one copy of each)."""
    for message, _why in HARMLESS_WARNINGS:
        warnings.filterwarnings("ignore", message=message)
    logger = logging.getLogger(RANK_ZERO_LOGGER)
    if not any(isinstance(f, DropNoiseLines) for f in logger.filters):
        logger.addFilter(DropNoiseLines())
