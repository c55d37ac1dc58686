"""Sort what Lightning hands a logger into one row per epoch (``metrics.csv``) and per-step rows (``metrics_steps.csv``).

A logger gets no word of epochs: Lightning calls ``log_metrics(values, step)`` once for each group of
values, and the rows have to be inferred from two facts of how it calls.

- Values a LightningModule logs with ``self.log`` come with an ``epoch`` field. Epoch-level ones
  (``on_epoch=True``: the tasks' ``train/*``, ``val/*``, ``test/*``) come when a loop ends: validation's,
  then training's, both at the epoch's last step.
- Values a callback logs come without one: ``LearningRateMonitor`` logs the learning rate when an
  epoch starts and, for an optimizer without a scheduler or with one stepped per batch, every
  ``log_every_n_steps`` batches. Such values wait for the next ``self.log`` values, whose epoch is
  theirs: an epoch's callback values come after the previous epoch's last ``self.log`` values (every
  epoch ends with its ``train/*``) and before its own.

The row of an epoch holds each value's epoch figure: a module's value as it stands at the epoch's end
(its last), a callback's as the epoch started (its first, the epoch's learning rate). A tag logged at
more than one step within one epoch is a per-step tag from then on: each of its values also goes,
under its step, into ``metrics_steps.csv``, one row per step.
"""

from __future__ import annotations

import bisect
import csv
from collections.abc import Iterable, Mapping
from pathlib import Path

from litzoo.callbacks.csv_rows import Row, RowsCSV

EPOCH, STEP = "epoch", "step"
METRICS_FILE = "metrics.csv"
#: Values of tags logged at more than one step of an epoch, one row per step (only such runs have it).
STEPS_FILE = "metrics_steps.csv"


class EpochWindow:
    """What one epoch logged: its row's values and, for per-step tags, one row per step."""

    def __init__(self, epoch: int | None) -> None:
        self.epoch = epoch
        self.from_module = False  # whether values with this epoch arrived (else the epoch is a guess)
        self.first: dict[str, tuple[int, float]] = {}  # callbacks' values: the epoch's first, at its step
        self.last: dict[str, tuple[int, float]] = {}  # the module's values: the epoch's last, at its step
        self.last_step = -1  # the largest step of its values: the step of the epoch's row
        self._steps: list[int] = []  # the steps of per-step rows, ascending
        self._step_values: dict[int, dict[str, float]] = {}
        self.written_steps = 0  # how many of the per-step rows are on disk as they are now

    def row(self) -> Row:
        values = {tag: value for tag, (_, value) in (self.first | self.last).items()}
        return {EPOCH: self.epoch, STEP: self.last_step, **values}

    def add_step_value(self, tag: str, step: int, value: float) -> None:
        index = bisect.bisect_left(self._steps, step)
        if index == len(self._steps) or self._steps[index] != step:
            self._steps.insert(index, step)
            self._step_values[step] = {}
        self._step_values[step][tag] = value
        self.written_steps = min(self.written_steps, index)

    @property
    def step_count(self) -> int:
        return len(self._steps)

    def step_rows(self, start: int) -> list[Row]:
        return [{STEP: step, EPOCH: self.epoch, **self._step_values[step]} for step in self._steps[start:]]


def tags_with_values(steps_csv: Path) -> set[str]:
    """The tags with a value in some row of ``steps_csv`` (none when there is no such file)."""
    if not steps_csv.is_file():
        return set()
    with steps_csv.open(newline="") as file:
        return {
            tag
            for row in csv.DictReader(file)
            for tag, value in row.items()
            if value and tag not in (STEP, EPOCH, None)
        }


class EpochRows:
    """Turns ``log_metrics`` calls into the rows of two :class:`RowsCSV` files (see the module)."""

    @classmethod
    def in_folder(cls, folder: Path) -> EpochRows:
        """The rows of ``folder/metrics.csv`` and ``folder/metrics_steps.csv``, continuing existing files.

        A resumed run continues knowing which tags are per-step: those with a value in a row that
        ``metrics_steps.csv`` keeps (read after a resume dropped the rows it replays). An epoch that
        logs such a tag at one step only (the learning rate at its start) still gets its step row.
        """
        steps_csv = folder / STEPS_FILE
        return cls(
            RowsCSV(folder / METRICS_FILE, (EPOCH, STEP)),
            RowsCSV(steps_csv, (STEP, EPOCH)),
            per_step_tags=tags_with_values(steps_csv),
        )

    def __init__(self, epochs: RowsCSV, steps: RowsCSV, per_step_tags: Iterable[str] = ()) -> None:
        self._epochs, self._steps = epochs, steps
        self._per_step_tags: set[str] = set(per_step_tags)
        self._waiting: list[tuple[int, dict[str, float]]] = []  # callbacks' values not yet in an epoch
        self._window: EpochWindow | None = None
        self._closed: list[EpochWindow] = []  # finished epochs whose rows are not written yet
        self._epoch_row = 0  # the row number (in this process's rows) of the first of _closed, or _window
        self._step_row = 0  # the same for their first per-step row

    def add(self, values: Mapping[str, float], step: int) -> None:
        """Take the values of one ``log_metrics`` call; those with an ``epoch`` field came from ``self.log``."""
        if EPOCH not in values:
            self._waiting.append((step, dict(values)))
            return
        values = dict(values)
        epoch = int(values.pop(EPOCH))
        window = self._window
        if window is not None and not window.from_module:
            window.epoch, window.written_steps = epoch, 0  # the guess (see finish) was the epoch's own row
        elif window is None or window.epoch != epoch:
            self._open(epoch)
        self._window.from_module = True
        self._place_waiting()
        for tag, value in values.items():
            self._add_value(tag, step, value, self._window.last)

    def finish(self) -> None:
        """Give the values still waiting for their epoch a row: the run stops before that epoch logs.

        They are the start of the epoch after the last one that logged (its learning rate, say), so
        that is the epoch they get; should the run go on logging, the row becomes that epoch's own.
        """
        if not self._waiting:
            return
        if self._window is None or self._window.from_module:
            self._open(None if self._window is None else self._window.epoch + 1)
        self._place_waiting()

    def save(self) -> None:
        """Write every row that changed since the last save."""
        windows = [*self._closed, *([self._window] if self._window is not None else [])]
        if not windows:
            return
        self._epochs.write(self._epoch_row, [window.row() for window in windows])
        first = windows[0].written_steps  # only the first can have rows on disk: the others are new
        step_rows = [
            row for i, window in enumerate(windows) for row in window.step_rows(first if i == 0 else 0)
        ]
        self._steps.write(self._step_row + first, step_rows)
        self._epoch_row += len(self._closed)
        self._step_row += sum(window.step_count for window in self._closed)
        self._closed.clear()
        windows[-1].written_steps = windows[-1].step_count

    def _open(self, epoch: int | None) -> None:
        if self._window is not None:
            self._closed.append(self._window)
        self._window = EpochWindow(epoch)

    def _place_waiting(self) -> None:
        for step, values in self._waiting:
            for tag, value in values.items():
                self._add_value(tag, step, value, self._window.first)
        self._waiting.clear()

    def _add_value(self, tag: str, step: int, value: float, kept: dict[str, tuple[int, float]]) -> None:
        """Add one value to the epoch; ``kept`` is where its row figure lives (``first`` or ``last``)."""
        window = self._window
        window.last_step = max(window.last_step, step)
        earlier = kept.get(tag)
        if tag not in self._per_step_tags and earlier is not None and earlier[0] != step:
            self._per_step_tags.add(tag)  # a second step in one epoch: the earlier value is a step's too
            window.add_step_value(tag, *earlier)
        if tag in self._per_step_tags:
            window.add_step_value(tag, step, value)
        if kept is window.last or tag not in kept:
            kept[tag] = (step, value)
