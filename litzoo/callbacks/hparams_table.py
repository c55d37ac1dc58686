"""``python scripts/hparams_table.py LOGDIR``: what TensorBoard's HParams tab shows for a log dir, as text.

The table is read the way ``tensorboard --logdir LOGDIR`` reads it: TensorBoard's own event
multiplexer and data provider load the folder, and the HParams plugin's backend answers the two
requests its dashboard makes (the experiment: which columns; the session groups: one row per run).
So the text shows exactly the runs, columns and values the tab serves, and the tests assert on it.
"""

from __future__ import annotations

import argparse
import math
import os
from collections.abc import Sequence
from dataclasses import dataclass

from google.protobuf import struct_pb2
from tensorboard.backend.event_processing import data_provider, plugin_event_multiplexer
from tensorboard.context import RequestContext
from tensorboard.plugins import base_plugin
from tensorboard.plugins.hparams import api_pb2, backend_context, get_experiment, list_session_groups

#: Every session status, as the dashboard asks by default (a run without an end record is "unknown").
ALL_STATUSES = (
    api_pb2.STATUS_UNKNOWN,
    api_pb2.STATUS_SUCCESS,
    api_pb2.STATUS_FAILURE,
    api_pb2.STATUS_RUNNING,
)
#: What the dashboard asks for at most (its ``_maxNumHparamsToLoad``).
HPARAMS_LIMIT = 1000
#: How many metric columns the dashboard shows before any is ticked: the first five served
#: (``displayed: i < 5`` in its ``_computeMetrics``).
SHOWN_METRIC_COLUMNS = 5
#: Significant digits the dashboard writes every number with (``toPrecision(5)``).
NUMBER_DIGITS = 5

Value = bool | float | str


@dataclass
class Session:
    """One row of the tab: a run's trial id, hyperparameter values and metric values."""

    trial: str
    hparams: dict[str, Value]
    metrics: dict[str, float]


@dataclass
class HParamsTable:
    """The tab's columns in the order served (hyperparameters, then metrics) and its rows."""

    hparams: list[str]
    metrics: list[str]
    sessions: list[Session]


def served_hparams(logdir: str | os.PathLike) -> HParamsTable:
    """What the HParams plugin serves for ``logdir``, loaded as ``tensorboard --logdir`` loads it."""
    multiplexer = plugin_event_multiplexer.EventMultiplexer()
    multiplexer.AddRunsFromDirectory(str(logdir))
    multiplexer.Reload()
    provider = data_provider.MultiplexerDataProvider(multiplexer, str(logdir))
    context = backend_context.Context(
        base_plugin.TBContext(data_provider=provider, multiplexer=multiplexer, logdir=str(logdir))
    )
    request_context, experiment_id = RequestContext(), ""
    experiment = get_experiment.Handler(
        request_context,
        context,
        experiment_id,
        api_pb2.GetExperimentRequest(hparams_limit=HPARAMS_LIMIT),
    ).run()
    groups = list_session_groups.Handler(
        request_context,
        context,
        experiment_id,
        api_pb2.ListSessionGroupsRequest(allowed_statuses=ALL_STATUSES, slice_size=2**31 - 1),
    ).run()
    sessions = [
        Session(
            trial=group.name,
            hparams={name: plain_value(value) for name, value in group.hparams.items()},
            metrics={metric_column(metric.name): metric.value for metric in group.metric_values},
        )
        for group in groups.session_groups
    ]
    return HParamsTable(
        hparams=[info.name for info in experiment.hparam_infos],
        metrics=[metric_column(info.name) for info in experiment.metric_infos],
        sessions=sessions,
    )


def metric_column(name: api_pb2.MetricName) -> str:
    """A metric column's name: its tag, after the sub-run it comes from when that is not the run itself.

    A run's evaluations are sub-runs (``version_0/test_0``), whose scalars the plugin serves as the
    run's metrics in their own group: ``test_0/test/mse``, and ``test_0/epoch`` beside ``epoch``.
    """
    return f"{name.group}/{name.tag}" if name.group else name.tag


def plain_value(value: struct_pb2.Value) -> Value:
    """The Python value of one served hyperparameter (a ``google.protobuf.Value``)."""
    return getattr(value, value.WhichOneof("kind"))


def shown(value: Value | None) -> str:
    """A cell as the dashboard writes it: numbers to 5 significant digits, ``true``/``false``, text as
    it is, blank when absent."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float):
        return to_precision(value, NUMBER_DIGITS)
    return value


def to_precision(value: float, digits: int) -> str:
    """JavaScript's ``value.toPrecision(digits)``: ``42.000``, ``0.050000``, ``1.0000e-7``, ``1.2346e+5``."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    mantissa, exponent = f"{value:.{digits - 1}e}".split("e")  # rounded as JavaScript rounds
    power = int(exponent)
    if power < -6 or power >= digits:
        return f"{mantissa}e{'+' if power >= 0 else '-'}{abs(power)}"
    return f"{value:.{digits - 1 - power}f}"


def format_table(table: HParamsTable) -> str:
    """A Markdown table: one row per run, the trial id, then every hyperparameter and metric column."""
    header = ["trial", *table.hparams, *table.metrics]
    rows = [
        [
            session.trial,
            *(shown(session.hparams.get(name)) for name in table.hparams),
            *(shown(session.metrics.get(tag)) for tag in table.metrics),
        ]
        for session in table.sessions
    ]
    lines = [header, ["---"] * len(header), *rows]
    return "\n".join("| " + " | ".join(cells) + " |" for cells in lines)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("logdir", help="the folder given to tensorboard --logdir (e.g. lightning_logs)")
    args = parser.parse_args(argv)
    if not os.path.isdir(args.logdir):
        parser.error(f"{args.logdir} is not a folder: give the log dir that tensorboard --logdir reads.")
    print(format_table(served_hparams(args.logdir)))
