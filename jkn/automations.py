"""Prefect automations kept as code (``automations.yaml``), applied with ``jkn automations apply``.

The file holds the automations in the shape ``prefect automation create --from-file`` reads
(``automations:``, a list of Prefect ``AutomationCore`` definitions). What the file cannot know
is the id of the notification block on a given server: :func:`apply_automations` resolves a
``<block-type-slug>/<block-name>`` reference (as ``jkn alerts webhook|slack|email`` prints
it) to its block document id and fills it into every ``send-notification`` action whose
``block_document_id`` is empty. Then each automation is created, or, when the server already
has one of that name, replaced in place (same id), so that applying twice changes nothing.

Every failure a user can cause (no server configured or reachable, a malformed reference, a
block that does not exist or cannot notify, an invalid file) raises :class:`AutomationsError`
with a message saying what to do, never a traceback.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any
from uuid import UUID

from jkn.alerts import AlertsMisconfigured, check_reference
from jkn.settings import prefect_server

if TYPE_CHECKING:
    from prefect.client.orchestration import SyncPrefectClient
    from prefect.events.schemas.automations import AutomationCore

FILE_NAME = "automations.yaml"


class AutomationsError(RuntimeError):
    """The automations cannot be applied; the message says why and what to do."""


def default_path() -> Path:
    """``automations.yaml`` at the repository root (else in the current directory)."""
    beside_package = Path(__file__).resolve().parent.parent / FILE_NAME
    return beside_package if beside_package.is_file() else Path.cwd() / FILE_NAME


def parse_reference(reference: str) -> tuple[str, str]:
    """``(block_type_slug, block_name)`` of ``'<block-type-slug>/<block-name>'``."""
    try:
        slug, name = check_reference(reference.strip()).split("/")
    except AlertsMisconfigured as error:
        raise AutomationsError(str(error)) from None
    return slug, name


def load_definitions(path: Path, block_document_id: UUID | None = None) -> list[AutomationCore]:
    """The automations of ``path``, validated by Prefect's own model, with
    ``block_document_id`` filled into every ``send-notification`` action that leaves it
    empty."""
    import yaml
    from prefect.events.schemas.automations import AutomationCore
    from pydantic import ValidationError

    if not path.is_file():
        raise AutomationsError(f"{path}: no such file (the automations are kept in {FILE_NAME})")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as error:
        raise AutomationsError(f"{path} is not valid YAML: {error}") from None
    entries = data.get("automations") if isinstance(data, dict) else None
    if not isinstance(entries, list) or not entries:
        raise AutomationsError(f"{path}: expected a list of automations under 'automations:'")
    automations = []
    for index, entry in enumerate(entries):
        if not isinstance(entry, dict):
            raise AutomationsError(f"{path}: automation {index + 1} is not a mapping")
        name = entry.get("name", f"automation {index + 1}")
        for action in _all_actions(entry):
            if action.get("type") == "send-notification" and not action.get("block_document_id"):
                if block_document_id is None:
                    raise AutomationsError(
                        f"{path}: automation {name!r} sends a notification: give the block "
                        "(--block '<block-type-slug>/<block-name>')"
                    )
                action["block_document_id"] = str(block_document_id)
        try:
            automations.append(AutomationCore.model_validate(entry))
        except ValidationError as error:
            problems = "; ".join(
                f"{'.'.join(str(part) for part in e['loc'])}: {e['msg']}"
                for e in error.errors()[:5]
            )
            raise AutomationsError(f"{path}: automation {name!r} is invalid: {problems}") from None
    names = [a.name for a in automations]
    if len(set(names)) != len(names):
        raise AutomationsError(f"{path}: two automations share a name (names are their keys)")
    return automations


def _all_actions(entry: dict[str, Any]) -> list[dict[str, Any]]:
    actions = []
    for key in ("actions", "actions_on_trigger", "actions_on_resolve"):
        actions += [a for a in entry.get(key) or [] if isinstance(a, dict)]
    return actions


def resolve_block(client: SyncPrefectClient, reference: str) -> UUID:
    """The id of the notification block document ``reference`` names on the server."""
    from prefect.exceptions import ObjectNotFound

    slug, name = parse_reference(reference)
    try:
        document = client.read_block_document_by_name(name, slug, include_secrets=False)
    except ObjectNotFound:
        raise AutomationsError(
            f"no block {slug}/{name} on the Prefect server at {prefect_server()}. Create it there "
            f"with `jkn alerts webhook URL --name {name}` (or `jkn alerts slack|email`), or "
            "correct the reference."
        ) from None
    schema = document.block_schema
    if schema is not None and "notify" not in (schema.capabilities or []):
        raise AutomationsError(
            f"{slug}/{name} is not a notification block (its type cannot notify): give a block "
            "made by `jkn alerts webhook|slack|email`."
        )
    if document.id is None:  # pragma: no cover (a block read from the server has an id)
        raise AutomationsError(f"{slug}/{name} has no id on the server")
    return document.id


def apply_automations(block: str, path: Path | None = None) -> list[str]:
    """Create, or replace by name, the automations of ``path`` (default ``automations.yaml``)
    on the server ``PREFECT_API_URL`` points at, notifying through ``block``
    (``'<block-type-slug>/<block-name>'``). Returns one line per automation: what was done."""
    import httpx
    from prefect.client.orchestration import get_client
    from prefect.exceptions import PrefectHTTPStatusError

    path = path or default_path()
    parse_reference(block)  # a malformed reference fails before any network call
    if not prefect_server():
        raise AutomationsError(
            "PREFECT_API_URL is not set: point it at the Prefect server the worker uses "
            "(e.g. export PREFECT_API_URL=http://127.0.0.1:4200/api), then apply again."
        )
    done = []
    try:
        with get_client(sync_client=True) as client:
            definitions = load_definitions(path, resolve_block(client, block))
            for automation in definitions:
                existing = client.read_automations_by_name(automation.name)
                if existing:
                    keep, *duplicates = existing
                    client.update_automation(keep.id, automation)
                    for duplicate in duplicates:
                        client.delete_automation(duplicate.id)
                    extra = f", {len(duplicates)} duplicate(s) deleted" if duplicates else ""
                    done.append(f"replaced {automation.name!r} ({keep.id}{extra})")
                else:
                    new_id = client.create_automation(automation)
                    done.append(f"created {automation.name!r} ({new_id})")
    except (httpx.HTTPStatusError, PrefectHTTPStatusError) as error:
        detail = error.response.text[:500]
        raise AutomationsError(
            f"the Prefect server at {prefect_server()} refused the request "
            f"({error.response.status_code}): {detail}"
        ) from None
    except httpx.HTTPError as error:
        raise AutomationsError(
            f"the Prefect server at {prefect_server()} could not be reached "
            f"({type(error).__name__}). Check that it is up and that PREFECT_API_URL is right."
        ) from None
    return done
