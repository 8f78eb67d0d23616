"""Prefect tasks: each one logical step or side effect of the monthly refresh."""

from __future__ import annotations

import logging

from prefect.exceptions import MissingContextError
from prefect.logging import get_run_logger


def run_logger() -> logging.Logger | logging.LoggerAdapter:
    """The Prefect run logger inside a flow or task run, the ``jkn`` logger outside one."""
    try:
        return get_run_logger()
    except MissingContextError:
        return logging.getLogger("jkn")
