"""A command run by hand starts Prefect's temporary server first and stops it at the end.

Run in child processes: the session's Prefect harness sets an API URL for this process.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from jkn.settings import child_environment

PROBE = """
import json, os, httpx
from prefect.settings import get_current_settings
from jkn.cli.server import prefect_api
with prefect_api() as server:
    inside = get_current_settings().api.url
    child = os.environ.get("PREFECT_API_URL")
    if server:
        server.wait_ready()
        health = httpx.get(server.url + "/health").status_code
    else:
        health = None
print(json.dumps({
    "started": server is not None,
    "inside": inside,
    "child": child,
    "health": health,
    "stopped": server.process.poll() is not None if server else None,
    "after": os.environ.get("PREFECT_API_URL"),
}))
"""


def _probe(tmp_path: Path, **env: str) -> dict[str, object]:
    environment = {k: v for k, v in child_environment().items() if not k.startswith("PREFECT_")}
    environment |= {"PREFECT_HOME": str(tmp_path / "prefect"), **env}
    done = subprocess.run(
        [sys.executable, "-c", PROBE],
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    result: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


@pytest.mark.slow
def test_without_a_configured_server_one_is_started_used_and_stopped(tmp_path: Path) -> None:
    seen = _probe(tmp_path)
    assert seen["started"] is True
    assert str(seen["inside"]).startswith("http://127.0.0.1:")
    assert seen["child"] == seen["inside"]  # Dask workers and other children use it too
    assert seen["health"] == 200
    assert seen["stopped"] is True
    assert seen["after"] is None  # the environment is as it was


def test_a_configured_server_is_used_as_it_is(tmp_path: Path) -> None:
    seen = _probe(tmp_path, PREFECT_API_URL="http://127.0.0.1:9/api")
    assert seen == {
        "started": False,
        "inside": "http://127.0.0.1:9/api",
        "child": "http://127.0.0.1:9/api",
        "health": None,
        "stopped": None,
        "after": "http://127.0.0.1:9/api",
    }
