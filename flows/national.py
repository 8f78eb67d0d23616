"""The national refresh: one monthly refresh per province, fanned out on the task runner, then
what crosses provinces found through the NIK-hash exchange, and the national marts published.

On a ``DaskTaskRunner`` (``jkn national --dask-workers N`` or ``--dask-address``) each
province's refresh runs on a worker: the task ``refresh_province`` runs the monthly flow for the
province (a subflow, with its own alerts and its own warehouse) and writes the province's
persons to the exchange, bucketed by NIK hash. Then one ``cross_partition`` task per bucket
counts the persons found in several provinces, and the national marts — the provinces'
additive counts summed, rates recomputed, the cross-province counts — are published to the
national marts file. A province not published leaves the national period unpublished (the
national marts keep its last good state); the run ends ``Failed`` naming each such province.
On the default task runner (threads of one process) the provinces run one after another.
"""

from __future__ import annotations

import secrets

from prefect import flow, task, unmapped
from prefect.cache_policies import NO_CACHE

import jkn.settings  # noqa: F401  (telemetry off before Prefect does anything)
from flows.monthly_refresh import failed_state, run_name
from jkn import states
from jkn.lock import RefreshRunning, refresh_lock
from jkn.national import (
    Exchange,
    NationalParameters,
    NationalSummary,
    ProvinceOutcome,
    ProvinceRun,
    add_counts,
    export_province,
    new_salt,
    period_of,
    timed,
)
from jkn.periods import PeriodError
from tasks import run_logger
from tasks.national import (
    build_national_task,
    cross_partition_task,
    process_name,
    publish_national_task,
)


class NationalFailed(RuntimeError):
    """The national period was not published: a province was not."""

    def __init__(self, summary: NationalSummary) -> None:
        self.summary = summary
        lines = [f"province {p.code}: {p.message or 'not published'}" for p in summary.failed]
        super().__init__(
            f"national {summary.period} not published: {len(lines)} province(s) failed\n"
            + "\n".join(lines)
        )


@task(name="refresh_province", cache_policy=NO_CACHE)
def refresh_province(
    params: NationalParameters,
    province: ProvinceRun,
    period: str,
    token: str,
    salt: str,
) -> ProvinceOutcome:
    """Refresh one province (the monthly flow, into its own warehouse), then write its persons
    to the exchange by NIK-hash bucket; runs wherever the task runner puts it."""
    # imported here, in the worker: a task shipped to a Dask worker may carry its function by
    # value, and the monthly flow's parameter model must resolve its annotations in its own
    # module (RefreshParameters)
    from flows.monthly_refresh import monthly_refresh

    lap = timed()
    refresh = monthly_refresh.with_options(flow_run_name=f"refresh-{province.code}-{period}")
    state = refresh(params.province_parameters(province, period), return_state=True)
    refreshed = lap()
    if not state.is_completed():
        message = (state.message or state.name or "failed").splitlines()[0]
        return ProvinceOutcome(
            code=province.code,
            published=False,
            message=message,
            refresh_s=refreshed,
            process=process_name(),
        )
    exchange = Exchange(params.exchange_root(), period, token)
    persons = export_province(
        province.warehouse, period, province.code, exchange, params.partitions, salt
    )
    return ProvinceOutcome(
        code=province.code,
        published=True,
        persons_exchanged=persons,
        refresh_s=refreshed,
        export_s=round(lap() - refreshed, 3),
        process=process_name(),
    )


@flow(name="national-refresh", log_prints=False, validate_parameters=True)
def national_refresh(params: NationalParameters, period: str | None = None) -> NationalSummary:
    """Refresh every province of ``params`` (each its own monthly refresh and warehouse, in
    parallel on the task runner), find the persons that cross provinces by NIK hash, and
    publish the national marts (``marts.national_coverage``, ``marts.cross_province``).

    ``period`` (YYYY-MM), when given, overrides ``params.period``."""
    try:
        period = period_of(params, period)
    except PeriodError as error:
        return failed_state(error)
    try:
        with refresh_lock(params.warehouse, f"national-refresh {period}, run {run_name()}"):
            summary = _national(params, period)
    except RefreshRunning as refused:
        return failed_state(refused)
    if summary.failed:
        return failed_state(NationalFailed(summary))
    figures = summary.figures["ID"]
    return states.completed(
        summary,
        f"national {period} published from {len(summary.provinces)} province(s): "
        f"{figures['carded_in_several']:,} person(s) carded in several provinces, "
        f"{figures['cross_province_double_funding']:,} funded twice across provinces",
    )


def _threads_of_one_process() -> bool:
    """Whether the flow's task runner runs tasks as threads of this process (Prefect's
    default) rather than in worker processes (a ``DaskTaskRunner`` of single-threaded
    workers, :func:`jkn.runners.dask_runner`)."""
    from prefect.context import FlowRunContext
    from prefect.task_runners import ThreadPoolTaskRunner

    context = FlowRunContext.get()
    return context is None or isinstance(context.task_runner, ThreadPoolTaskRunner)


def _national(params: NationalParameters, period: str) -> NationalSummary:
    logger = run_logger()
    token, salt = secrets.token_hex(8), new_salt()
    codes = [p.code for p in params.provinces]
    summary = NationalSummary(period=period, provinces=[], partitions=params.partitions)
    exchange = Exchange(params.exchange_root(), period, token)
    lap = timed()
    try:
        if _threads_of_one_process():
            # Great Expectations keeps one context per process, not safe across threads: in
            # one process the provinces are refreshed one after another
            summary.provinces = [
                refresh_province.submit(params, province, period, token, salt).result()
                for province in params.provinces
            ]
        else:
            futures = refresh_province.map(
                unmapped(params),
                params.provinces,
                unmapped(period),
                unmapped(token),
                unmapped(salt),
            )
            summary.provinces = [future.result() for future in futures]
        summary.seconds["provinces"] = lap()
        summary.processes["provinces"] = len({p.process for p in summary.provinces})
        if summary.failed:
            return summary
        parts = cross_partition_task.map(
            unmapped(params.exchange_root()),
            unmapped(period),
            unmapped(token),
            list(range(params.partitions)),
            unmapped(codes),
        )
        counted = [future.result() for future in parts]
        summary.seconds["cross"] = round(lap() - summary.seconds["provinces"], 3)
        summary.processes["partitions"] = len({c.process for c in counted})
        figures = add_counts([c.counts for c in counted])
        for code in codes:
            figures.setdefault(code, {})
        national = figures.setdefault("ID", {})
        national["cross_province_double_funding"] = sum(
            figures[code].get("cross_province_double_funding", 0) for code in codes
        )
        summary.figures = figures
        warehouses = {p.code: p.warehouse for p in params.provinces}
        marts = build_national_task(period, warehouses, figures, params.warehouse)
        publish_national_task(marts, params.warehouse, period)
        summary.published = True
        summary.seconds["marts"] = round(
            lap() - summary.seconds["provinces"] - summary.seconds["cross"], 3
        )
    finally:
        exchange.remove()
    logger.info(
        "national %s: %d province(s) on %d process(es) in %.1f s; %d bucket(s) on %d "
        "process(es) in %.1f s",
        period,
        len(summary.provinces),
        summary.processes.get("provinces", 0),
        summary.seconds.get("provinces", 0.0),
        params.partitions,
        summary.processes.get("partitions", 0),
        summary.seconds.get("cross", 0.0),
    )
    return summary
