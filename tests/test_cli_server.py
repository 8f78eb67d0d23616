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
import json, os, sys, httpx
from jkn.cli import server as servers
servers.start_early(sys.argv[1:])  # as `jkn <arguments>` does before importing Prefect
early = servers._early
from prefect.settings import get_current_settings
with servers.prefect_api() as server:
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
    "early": early is not None,
    "adopted": early is server if early else None,
    "early_stopped": early.process.poll() is not None if early else None,
}))
"""


def _probe(tmp_path: Path, *arguments: str, **env: str) -> dict[str, object]:
    environment = {k: v for k, v in child_environment().items() if not k.startswith("PREFECT_")}
    environment |= {"PREFECT_HOME": str(tmp_path / "prefect"), **env}
    done = subprocess.run(
        [sys.executable, "-c", PROBE, *arguments],
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
    assert seen["early"] is False  # no command line: started when asked for


@pytest.mark.slow
def test_a_flow_command_starts_the_server_before_prefect_is_imported(tmp_path: Path) -> None:
    seen = _probe(tmp_path, "run", "--period", "2025-05")
    assert seen["early"] is True
    assert seen["adopted"] is True  # the same server, not a second one
    assert seen["health"] == 200
    assert seen["stopped"] is True


@pytest.mark.parametrize(
    "arguments",
    [("lists", "export"), ("run", "--help"), ("--help",), ("alerts", "test")],
)
def test_other_commands_and_help_start_no_server_early(
    arguments: tuple[str, ...], monkeypatch: pytest.MonkeyPatch
) -> None:
    from jkn.cli import server

    monkeypatch.delenv("PREFECT_API_URL", raising=False)
    server.start_early(list(arguments))
    assert server._early is None


def test_a_server_in_the_environment_means_no_early_start(tmp_path: Path) -> None:
    seen = _probe(tmp_path, "run", "--period", "2025-05", PREFECT_API_URL="http://127.0.0.1:9/api")
    assert seen["early"] is False
    assert seen["started"] is False


@pytest.mark.slow
def test_an_early_server_is_stopped_when_a_profile_names_a_server(tmp_path: Path) -> None:
    profiles = tmp_path / "prefect" / "profiles.toml"
    profiles.parent.mkdir(parents=True)
    profiles.write_text(
        'active = "remote"\n[profiles.remote]\nPREFECT_API_URL = "http://127.0.0.1:9/api"\n',
        encoding="utf-8",
    )
    seen = _probe(tmp_path, "run", "--period", "2025-05")
    assert seen["early"] is True  # the environment alone did not say
    assert seen["started"] is False
    assert seen["inside"] == "http://127.0.0.1:9/api"
    assert seen["early_stopped"] is True  # not left running


def test_a_configured_server_is_used_as_it_is(tmp_path: Path) -> None:
    seen = _probe(tmp_path, PREFECT_API_URL="http://127.0.0.1:9/api")
    assert seen == {
        "started": False,
        "inside": "http://127.0.0.1:9/api",
        "child": "http://127.0.0.1:9/api",
        "health": None,
        "stopped": None,
        "after": "http://127.0.0.1:9/api",
        "early": False,
        "adopted": None,
        "early_stopped": None,
    }
