"""How a run ends when it fails on purpose: a Prefect ``Failed`` state with the reason, and no
traceback anywhere a user looks.

An expected failure (a refused file, a failed check, a refresh already running, a bad period
or alert block) is not a bug: the flow *returns* :func:`failed_state`, Prefect's idiom for it.
The run ends ``Failed`` with the message; a caller of the flow function gets the error raised.

One Prefect quirk is mended here. When a worker runs a flow (Prefect's runtime entrypoint),
the engine, after the run has ended, turns a ``Failed`` state back into its exception and
logs it with the whole traceback ("Engine execution exited with unexpected exception") to the
run's log, the worker's log and ``--watch``. For a failure returned on purpose that record is
noise that reads as "the program broke"; :class:`_ReturnedOnPurpose`, installed on Prefect's
flow-run logger when this module is imported, drops exactly those records (the error must
carry the mark :func:`failed_state` sets). Any other exception keeps its traceback.
"""

from __future__ import annotations

import logging
from typing import Any, TypeVar, cast

from prefect.states import Completed, Failed

T = TypeVar("T")

_MARK = "_jkn_returned_on_purpose"


def failed_state(error: Exception, logger: logging.Logger | logging.LoggerAdapter) -> Any:
    """End a run ``Failed`` with ``error``'s message and no traceback. The message is logged
    once at ERROR, so that the run's log and ``--watch`` show the reason. (Typed ``Any``: a
    flow returns it in place of its result, and its caller gets ``error`` raised.)"""
    setattr(error, _MARK, True)
    logger.error("%s", error)
    return Failed(message=str(error), data=error)


def completed(result: T, message: str) -> T:
    """End a run ``Completed`` with ``message`` as its state message; the flow's caller gets
    ``result`` (hence the type)."""
    return cast(T, Completed(message=message, data=result))


class _ReturnedOnPurpose(logging.Filter):
    """Drop the engine's re-raise of a failure the flow returned on purpose, and of a run's
    parameters refused by Prefect (already logged in one line: "Validation of flow
    parameters failed with error: …")."""

    def filter(self, record: logging.LogRecord) -> bool:
        from prefect.exceptions import ParameterTypeError

        error = record.exc_info[1] if record.exc_info else None
        return not (getattr(error, _MARK, False) or isinstance(error, ParameterTypeError))


_flow_run_logger = logging.getLogger("prefect.flow_runs")
if not any(isinstance(f, _ReturnedOnPurpose) for f in _flow_run_logger.filters):
    _flow_run_logger.addFilter(_ReturnedOnPurpose())
