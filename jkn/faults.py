"""Fail points: named places where a crash test kills the process, as a power cut would.

``JKN_FAILPOINT=<name>`` in the environment makes :func:`failpoint` send the process SIGKILL
when it reaches that place (no cleanup, no ``finally``): the crash-safety tests use it to stop
a refresh at exact steps. Unset (always, in production) it does nothing.
"""

from __future__ import annotations

import os
import signal

ENV = "JKN_FAILPOINT"


def failpoint(name: str) -> None:
    if os.environ.get(ENV) == name:
        os.kill(os.getpid(), signal.SIGKILL)
