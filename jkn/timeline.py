"""Stage timings for the pipeline benchmark: ``JKN_TIMELINE=<file>`` makes each stage append
``{"stage", "start", "end"}`` (wall-clock seconds) as a JSON line. Unset, it does nothing."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from jkn.settings import env_name, settings

ENV = env_name("timeline")


@contextmanager
def stage(name: str) -> Iterator[None]:
    path = settings().timeline
    start = time.time()
    try:
        yield
    finally:
        if path:
            with Path(path).open("a", encoding="utf-8") as out:
                out.write(json.dumps({"stage": name, "start": start, "end": time.time()}) + "\n")
