"""``jkn``: the one entry point for everything a user runs (also ``python -m jkn``).

The commands are in :mod:`jkn.cli.commands`. This module stays light: a command that runs a
flow starts Prefect's temporary server before the commands (and Prefect, the pipeline and
Great Expectations) are imported, so the server comes up meanwhile (:mod:`jkn.cli.server`).

When the command is done, every exit handler runs as usual (Prefect's, logging's) and the
process then ends without tearing down the interpreter: freeing the modules and objects of
Prefect, Great Expectations, polars and DuckDB took most of a second after the last line was
printed. Nothing is left unwritten: the warehouse files are closed by then and the standard
streams are flushed.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import sys

_exit_code = [0]


def main() -> None:
    atexit.register(_end_at_once)  # registered first, so it runs after every other handler
    from jkn.cli.server import start_early

    start_early(sys.argv[1:])

    import logging

    from jkn.cli.commands import app

    logging.basicConfig(level=logging.WARNING)
    try:
        app()
    except SystemExit as done:
        _exit_code[0] = _code(done.code)
        raise
    except BaseException:
        _exit_code[0] = 1  # the interpreter prints the traceback before the exit handlers run
        raise


def _code(code: object) -> int:
    """The process's exit status for ``SystemExit(code)`` (as the interpreter would give it)."""
    if code is None:
        return 0
    if isinstance(code, int):
        return code
    return 1  # a message: the interpreter prints it to stderr (before the exit handlers)


def _end_at_once() -> None:
    import logging

    logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):  # a closed or broken pipe
            stream.flush()
    os._exit(_exit_code[0])


if __name__ == "__main__":
    main()
