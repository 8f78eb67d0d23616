"""Fail points: named places where a crash test kills the process, as a power cut would.

``JKN_FAILPOINT=<name>`` in the environment makes :func:`failpoint` send the process SIGKILL
when it reaches that place (no cleanup, no ``finally``): the crash-safety tests use it to stop
a refresh at exact steps. ``JKN_PAUSEPOINT=<name>=<seconds>`` makes it sleep there instead,
so that a test can catch a run alive at that step (the zombie-run test kills the worker under
a refresh paused at ``refresh``). Unset (always, in production) they do nothing.
"""

from __future__ import annotations

import os
import signal
import time

from jkn.settings import env_name, settings

ENV = env_name("failpoint")
PAUSE_ENV = env_name("pausepoint")


def failpoint(name: str) -> None:
    if settings().failpoint == name:
        os.kill(os.getpid(), signal.SIGKILL)
    point, _, seconds = (settings().pausepoint or "").rpartition("=")
    if point == name:
        time.sleep(float(seconds))
