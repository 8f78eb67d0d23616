"""The monthly forum report of a published period, written beside the warehouse."""

from __future__ import annotations

from pathlib import Path

from prefect import task
from prefect.artifacts import create_markdown_artifact

from jkn.alerts import Alert
from jkn.report import report_dir, write_report
from tasks import run_logger


@task(name="write-report")
def write_forum_report(period: str, warehouse: Path, pdf: bool = True) -> list[Alert]:
    """Write the period's forum report (Bahasa Indonesia) into ``<warehouse stem>.report/
    <YYYY-MM>/`` from the published marts and link it from the artifact ``report-YYYYMM``.

    The marts are published already: a report that cannot be written never unpublishes them,
    it is a warning (the type of the error only: its text may quote a value)."""
    out = report_dir(warehouse, period)
    try:
        result = write_report(warehouse, period, out, pdf=pdf)
    except Exception as error:
        # not an expected outcome: a bug or a full disk, so its traceback goes to the log (the
        # report reads counts only); the alert names the type only
        run_logger().warning(
            "the forum report of %s failed: %s", period, type(error).__name__, exc_info=True
        )
        return [
            Alert(
                severity="warning",
                period=period,
                source="marts",
                check="forum_report",
                summary=f"the forum report of {period} was not written ({type(error).__name__}); "
                "the marts are published. Write it by hand with "
                f"`jkn report --period {period} --warehouse {warehouse} --out {out}`",
                where=str(out),
            )
        ]
    lines = [
        f"# Forum report {period}",
        "",
        f"[Index]({result.index.resolve().as_uri()}) — {len(result.pages)} page(s) "
        + (f"and {len(result.pdfs)} PDF(s)" if result.pdfs else f"(no PDF: {result.pdf_skipped})"),
        "",
        *(
            f"- [{result.names[code]} ({code})]({page.resolve().as_uri()})"
            + (f" · [PDF]({page.with_suffix('.pdf').resolve().as_uri()})" if result.pdfs else "")
            for code, page in result.pages.items()
        ),
    ]
    create_markdown_artifact(
        key=f"report-{period.replace('-', '')}",
        markdown="\n".join(lines),
        description=f"The monthly forum report of {period} (published marts, counts only)",
    )
    return []
