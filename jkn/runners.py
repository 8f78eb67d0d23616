"""Task runners the monthly flow can fan out on.

The flow runs its per-region work (the linkage's scoring, :func:`jkn.link.score_region`) as
Prefect tasks when ``fan_out_regions`` is set; which executor runs them is the flow's task
runner. :func:`dask_runner` makes a ``prefect_dask.DaskTaskRunner`` on a local cluster of
worker processes, or on an existing cluster's scheduler.
"""

from __future__ import annotations

from typing import Any

from jkn.settings import prefect_server, set_for_child_processes


def expose_api_to_workers() -> str:
    """Make the Prefect API this process uses reachable by the worker processes it spawns.

    A task on a Dask worker reports its state to the Prefect API. Without ``PREFECT_API_URL``
    each worker would start an ephemeral server of its own (and time out doing so); so the
    ephemeral server this process uses is started now, and its address is put in the
    environment the workers inherit. Returns the address.
    """
    url = prefect_server()
    if not url:
        from prefect.server.api.server import SubprocessASGIServer

        server = SubprocessASGIServer()  # the same instance Prefect's client would start
        server.start()
        url = server.api_url
    set_for_child_processes("PREFECT_API_URL", url)
    return url


def dask_runner(workers: int = 0, address: str | None = None) -> Any:
    """A ``DaskTaskRunner`` on ``address`` (an existing cluster's scheduler; its workers must
    have ``PREFECT_API_URL`` and this project installed), or on a local cluster of ``workers``
    single-threaded processes; None for neither."""
    if not workers and not address:
        return None
    from prefect_dask import DaskTaskRunner

    if address:
        return DaskTaskRunner(address=address)
    expose_api_to_workers()
    return DaskTaskRunner(
        cluster_kwargs={"n_workers": workers, "threads_per_worker": 1, "processes": True}
    )
