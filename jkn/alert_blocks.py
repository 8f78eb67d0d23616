"""Create the Prefect notification block alerts go through (``jkn alerts …``).

The block, saved on the Prefect server the environment points at (``PREFECT_API_URL``), holds
the address and any secret; the worker is told its name through ``JKN_ALERT_BLOCK`` or a
deployment's ``alert_block`` parameter. Nothing secret is written to a file of this project.
"""

from __future__ import annotations

from typing import Any

DEFAULT_NAME = "jkn-alerts"


def save_webhook(url: str, name: str = DEFAULT_NAME, token: str | None = None) -> str:
    """A JSON POST of ``{"subject", "body", "source": "jkn-uhc"}`` to ``url`` (with an
    ``Authorization: Bearer`` header kept as a block secret when ``token`` is given)."""
    from prefect.blocks.notifications import CustomWebhookNotificationBlock

    fields: dict[str, Any] = {
        "name": name,
        "url": url,
        "method": "POST",
        "json_data": {"subject": "{{subject}}", "body": "{{body}}", "source": "jkn-uhc"},
        "timeout": 10,
    }
    if token:
        fields["headers"] = {"Authorization": "Bearer {{token}}"}
        fields["secrets"] = {"token": token}
    CustomWebhookNotificationBlock(**fields).save(name, overwrite=True)
    return f"custom-webhook/{name}"


def save_slack(url: str, name: str = DEFAULT_NAME) -> str:
    """A Slack incoming webhook (its URL is the secret)."""
    from prefect.blocks.notifications import SlackWebhook

    SlackWebhook(url=url).save(name, overwrite=True)  # type: ignore[arg-type]
    return f"slack-webhook/{name}"


def save_email(api_key: str, sender: str, to: list[str], name: str = DEFAULT_NAME) -> str:
    """E-mail through SendGrid (Prefect's e-mail notification block)."""
    from prefect.blocks.notifications import SendgridEmail

    SendgridEmail(api_key=api_key, sender_email=sender, to_emails=to).save(  # type: ignore[arg-type]
        name, overwrite=True
    )
    return f"sendgrid-email/{name}"
