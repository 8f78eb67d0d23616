"""Alerts to data engineers, delivered through a Prefect notification block.

Severity follows DHIS2's validation rules: an *error* (a source that cannot be read, a
quarantine rate above its threshold, a failed mart expectation) is sent at once, one message
per error, and the run ends failed; *warnings* (rows loaded with warning flags, rows
quarantined below the threshold, warning-severity expectations) are summarised in one message
at the end of the run.

Which block: ``alert_block`` of the run's parameters, else ``JKN_ALERT_BLOCK`` in the
worker's environment, as ``<block-type-slug>/<block-name>`` (``custom-webhook/jkn-alerts``,
``slack-webhook/jkn-alerts``, ``sendgrid-email/jkn-alerts``…). The block holds the URL and
any secret; ``prefect.yaml`` never does. ``jkn alerts webhook|slack|email`` creates one.

A message carries counts, check names, region codes and file names, never a row's content:
:func:`render` is the only way text reaches a block, and it only reads these fields.
"""

from __future__ import annotations

import logging
import os
from typing import Literal

from pydantic import BaseModel, Field

ALERT_BLOCK_ENV = "JKN_ALERT_BLOCK"

log = logging.getLogger("jkn.alerts")


class Alert(BaseModel):
    """One finding worth a data engineer's attention."""

    severity: Literal["error", "warning"]
    period: str
    source: str | None = Field(
        default=None, description="dukcapil, dinsos_pbi, bpjs_membership, or marts"
    )
    check: str
    summary: str = Field(description="what failed, in counts (no row content)")
    counts: dict[str, int] = Field(default_factory=dict)
    where: str = Field(default="", description="where to look: a table, file or page")


def block_reference(explicit: str | None = None) -> str | None:
    """The notification block to deliver to, or None when alerts are not configured."""
    return explicit or os.environ.get(ALERT_BLOCK_ENV) or None


def render(alerts: list[Alert], run: str) -> tuple[str, str]:
    """Subject and body of one message (several warnings, or one error)."""
    errors = [a for a in alerts if a.severity == "error"]
    periods = sorted({a.period for a in alerts})
    if errors and len(alerts) == 1:
        a = errors[0]
        subject = f"[jkn-uhc] ERROR {a.period} {a.source or ''} {a.check}".replace("  ", " ")
    else:
        kind = "ERRORS" if errors else "warnings"
        subject = f"[jkn-uhc] {kind} {', '.join(periods)}: {len(alerts)} finding(s)"
    lines = [f"run: {run}"]
    for a in alerts:
        lines.append("")
        lines.append(f"{a.severity.upper()} · period {a.period} · source {a.source or '-'}")
        lines.append(f"check: {a.check}")
        lines.append(a.summary)
        if a.counts:
            lines.append("counts: " + ", ".join(f"{k}={v:,}" for k, v in a.counts.items()))
        if a.where:
            lines.append(f"where to look: {a.where}")
    return subject, "\n".join(lines)


def deliver(alerts: list[Alert], run: str, block: str | None) -> bool:
    """Send one message through the notification block; False (and a log line) when no block
    is configured or delivery failed. Delivery never raises: an alert that cannot go out must
    not hide the failure it reports."""
    if not alerts:
        return True
    subject, body = render(alerts, run)
    if not block:
        log.warning("no alert block configured (%s): %s", ALERT_BLOCK_ENV, subject)
        return False
    try:
        from prefect.blocks.core import Block

        notifier = Block.load(block)
        notifier.notify(body=body, subject=subject)  # type: ignore[attr-defined]
    except Exception as error:
        log.error("alert via %s failed (%s): %s", block, type(error).__name__, subject)
        return False
    return True
