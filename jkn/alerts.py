"""Alerts to data engineers, delivered through a Prefect notification block.

Severity follows DHIS2's validation rules: an *error* (a source that cannot be read, a
quarantine rate above its threshold, a failed mart expectation) is sent at once, one message
per error, and the run ends failed; *warnings* (rows loaded with warning flags, rows
quarantined below the threshold, warning-severity expectations) are summarised in one message
at the end of the run.

Which block: the run's ``alert_block`` parameter, ``<block-type-slug>/<block-name>``
(``custom-webhook/jkn-alerts``, ``slack-webhook/jkn-alerts``, ``sendgrid-email/jkn-alerts``…),
written into each deployment by ``prefect.yaml`` when it is deployed, so that it travels with
the deployment and not with the shell a worker was started from. The block holds the URL and
any secret; ``prefect.yaml`` never does. ``jkn alerts webhook|slack|email`` creates one.
:func:`load_notifier` checks a reference and loads its block, or says plainly what is wrong.

A message carries counts, check names, region codes and file names, never a row's content:
:func:`render` is the only way text reaches a block, and it only reads these fields.
"""

from __future__ import annotations

import logging
import re
from contextlib import AbstractContextManager
from typing import Literal, Protocol, cast

from pydantic import BaseModel, Field

from jkn.settings import prefect_server


class Notifier(Protocol):
    """A Prefect notification block as this module uses it: its concrete classes send
    synchronously from sync code (their abstract base declares ``notify`` async)."""

    def notify(self, body: str, subject: str | None = None) -> None: ...

    def raise_on_failure(self) -> AbstractContextManager[None]: ...


ALERT_BLOCK_ENV = "JKN_ALERT_BLOCK"
# Prefect's rule for block type slugs and block names: lowercase letters, digits and dashes
_REFERENCE = re.compile(r"[a-z0-9-]+/[a-z0-9-]+")
EXAMPLE_REFERENCE = "custom-webhook/jkn-alerts"
REDEPLOY_HINT = (
    f"Export {ALERT_BLOCK_ENV}=<type-slug>/<name> (as printed by `jkn alerts "
    "webhook|slack|email`) and run `prefect --no-prompt deploy --all` again."
)

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


class AlertsMisconfigured(ValueError):
    """The alert target cannot be used; the message says why and what to do."""


def check_reference(value: str) -> str:
    """``value`` if it reads as a notification block reference, else
    :class:`AlertsMisconfigured` saying what a reference looks like."""
    if "{{" in value:
        raise AlertsMisconfigured(
            f"alert_block is {value!r}: {ALERT_BLOCK_ENV} was not set when the deployment was "
            f"deployed. {REDEPLOY_HINT}"
        )
    if not _REFERENCE.fullmatch(value):
        hint = f" (did you mean custom-webhook/{value}?)" if "/" not in value else ""
        raise AlertsMisconfigured(
            f"{value!r} is not a notification block reference{hint}: expected "
            f"'<block-type-slug>/<block-name>', e.g. {EXAMPLE_REFERENCE}, in lowercase letters, "
            "digits and dashes, as `jkn alerts webhook|slack|email` prints it."
        )
    return value


def load_notifier(reference: str) -> Notifier:
    """The notification block ``reference`` names, loaded from the Prefect server; raises
    :class:`AlertsMisconfigured` (never a traceback's worth of text) when it cannot be used."""
    from prefect.blocks.abstract import NotificationBlock
    from prefect.blocks.core import Block

    check_reference(reference)
    server = prefect_server() or "a temporary local server (PREFECT_API_URL unset)"
    try:
        block = Block.load(reference)
    except ValueError:
        raise AlertsMisconfigured(
            f"no block {reference} on the Prefect server at {server}. Create it there with "
            "`jkn alerts webhook URL --name NAME` (or slack, email), or correct the name."
        ) from None
    except Exception as error:  # the server is down or unreachable
        raise AlertsMisconfigured(
            f"the Prefect server at {server} could not be asked for block {reference} "
            f"({type(error).__name__}). Check that the server is up and PREFECT_API_URL is right."
        ) from None
    if not isinstance(block, NotificationBlock):
        raise AlertsMisconfigured(
            f"{reference} is a {type(block).__name__} block, not a notification block: give a "
            "block made by `jkn alerts webhook|slack|email`."
        )
    return cast(Notifier, block)


def render(alerts: list[Alert], run: str) -> tuple[str, str]:
    """Subject and body of one message: one error in full, or a short digest of a run's
    warnings (a line each)."""
    errors = [a for a in alerts if a.severity == "error"]
    if errors:
        a = errors[0]
        subject = f"[jkn-uhc] ERROR {a.period} {a.source or ''} {a.check}".replace("  ", " ")
        lines = [f"run: {run}"]
        for a in errors:
            lines += ["", f"period {a.period} · source {a.source or '-'} · check {a.check}"]
            lines.append(a.summary)
            if a.counts:
                lines.append("counts: " + ", ".join(f"{k}={v:,}" for k, v in a.counts.items()))
            if a.where:
                lines.append(f"where to look: {a.where}")
        return subject, "\n".join(lines)
    periods = ", ".join(sorted({a.period for a in alerts}))
    subject = f"[jkn-uhc] {periods}: {len(alerts)} warning(s)"
    lines = [f"run: {run}", ""]
    lines += [f"- {a.source or '-'} {a.check}: {a.summary}" for a in alerts]
    wheres = list(dict.fromkeys(a.where for a in alerts if a.where))
    if wheres:
        lines += ["", "where to look: " + "; ".join(wheres)]
    return subject, "\n".join(lines)


def deliver(alerts: list[Alert], run: str, notifier: Notifier | None) -> str | None:
    """Send one message through the notification block. Returns None when it went out, else
    why not (also logged). Delivery never raises: an alert that cannot go out must not hide
    the failure it reports."""
    if not alerts:
        return None
    subject, body = render(alerts, run)
    if notifier is None:
        log.warning("no alert block configured: %s", subject)
        return "no alert block configured"
    try:
        # Apprise-based blocks (Slack, SendGrid) only report a failed send when asked to
        with notifier.raise_on_failure():
            notifier.notify(body=body, subject=subject)
    except Exception as error:
        reason = f"{type(error).__name__} from the {type(notifier).__name__} block"
        log.error("alert not delivered (%s): %s", reason, subject)
        return reason
    return None
