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
import threading


def main() -> None:
    from jkn.cli.server import start_early

    start_early(sys.argv[1:])

    import logging

    from jkn.cli.commands import app

    logging.basicConfig(level=logging.WARNING)
    try:
        app()
        code = 0
    except SystemExit as done:
        code = _code(done.code)
    except KeyboardInterrupt:
        raise  # the interpreter's own exit for it (status 130)
    except BaseException:
        sys.excepthook(*sys.exc_info())  # a bug: its traceback, as the interpreter prints it
        code = 1
    _end_at_once(code)


def _code(code: object) -> int:
    """The exit status for ``SystemExit(code)``, printing a message as the interpreter would."""
    if code is None:
        return 0
    if isinstance(code, int):
        return code
    sys.stderr.write(f"{code}\n")
    return 1


def _end_at_once(code: int) -> None:
    """End the process as the interpreter would — threads joined, every exit handler run
    (Prefect's, logging's, an embedding caller's) — but without its teardown."""
    for thread in threading.enumerate():
        if thread is not threading.current_thread() and not thread.daemon:
            thread.join()
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):  # a closed or broken pipe
            stream.flush()
    os._exit(code)


if __name__ == "__main__":
    main()
