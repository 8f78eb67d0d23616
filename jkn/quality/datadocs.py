"""Make Great Expectations' Data Docs render with no network.

GX writes pages that load Bootstrap, jQuery, Font Awesome and Vega from public CDNs and a logo
from an S3 bucket with the data context's id in the query string (STACK.md). Offline the pages
render unstyled, and online every view tells a third party that a run happened. The assets
ship with jkn-uhc (``datadocs_assets/``, licences in its LICENSES.md); this module copies them
into the site and points every page at the local copies.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from jinja2 import BytecodeCache

ASSETS = Path(__file__).with_name("datadocs_assets")
VENDOR = Path("static") / "vendor"

# CDN address (as GX 1.x writes it) → file under static/vendor
CDN_FILES: dict[str, str] = {
    "https://maxcdn.bootstrapcdn.com/bootstrap/4.3.1/css/bootstrap.min.css": "bootstrap.min.css",
    "https://stackpath.bootstrapcdn.com/bootstrap/4.3.1/js/bootstrap.min.js": "bootstrap.min.js",
    "https://unpkg.com/bootstrap-table@1.19.1/dist/bootstrap-table.min.css": (
        "bootstrap-table.min.css"
    ),
    "https://unpkg.com/bootstrap-table@1.19.1/dist/bootstrap-table.min.js": (
        "bootstrap-table.min.js"
    ),
    "https://unpkg.com/bootstrap-table@1.19.1/dist/extensions/filter-control/"
    "bootstrap-table-filter-control.min.js": "bootstrap-table-filter-control.min.js",
    "https://unpkg.com/bootstrap-table@1.19.0/dist/extensions/filter-control/"
    "bootstrap-table-filter-control.min.css": "bootstrap-table-filter-control.min.css",
    "https://unpkg.com/bootstrap-table@1.19.0/dist/extensions/filter-control/"
    "bootstrap-table-filter-control.css": "bootstrap-table-filter-control.min.css",
    "https://code.jquery.com/jquery-3.7.1.min.js": "jquery.min.js",
    "https://cdnjs.cloudflare.com/ajax/libs/popper.js/1.12.9/umd/popper.min.js": "popper.min.js",
    "https://cdnjs.cloudflare.com/ajax/libs/bootstrap-datepicker/1.9.0/js/"
    "bootstrap-datepicker.min.js": "bootstrap-datepicker.min.js",
    "https://cdnjs.cloudflare.com/ajax/libs/bootstrap-datepicker/1.9.0/css/"
    "bootstrap-datepicker.min.css": "bootstrap-datepicker.min.css",
    "https://cdnjs.cloudflare.com/ajax/libs/font-awesome/6.6.0/css/all.min.css": (
        "fontawesome-all.min.css"
    ),
    "https://cdn.jsdelivr.net/npm/@forevolve/bootstrap-dark@1.1.0/dist/css/"
    "bootstrap-prefers-dark.css": "bootstrap-prefers-dark.min.css",
    "https://cdn.jsdelivr.net/npm/vega@5": "vega.min.js",
    "https://cdn.jsdelivr.net/npm/vega-lite@5": "vega-lite.min.js",
    "https://cdn.jsdelivr.net/npm/vega-embed@6": "vega-embed.min.js",
}

# the remote logo (a tracking pixel in effect) and the newsletter form's link
_REMOTE_IMG = re.compile(r"<img[^>]*src=\"https?://[^\"]*\"[^>]*>", re.IGNORECASE)
# GX writes its own static files' addresses with a fixed number of "../" that is wrong for
# validation pages one level deeper (the run name is a folder): re-anchor them at the site
_SITE_STATIC = re.compile(r"(?P<attr>(?:src|href)=\")(?:\./|(?:\.\./)+)static/")
# inline CSS that loads a remote image (GX's logo as a background)
_REMOTE_CSS_URL = re.compile(r"url\(\s*['\"]?(https?://[^'\")\s]+)['\"]?\s*\)", re.IGNORECASE)
_LOADED_REF = re.compile(
    r"<(?:script|link|img|iframe)\b[^>]*?(?:src|href)=\"([^\"]+)\"", re.IGNORECASE
)


class OfflineError(RuntimeError):
    """A Data Docs page loads something this module does not know how to serve locally."""


def make_offline(site: Path) -> int:
    """Copy the vendored assets into ``site`` and rewrite every page to load them.

    Returns the number of pages rewritten. Raises :class:`OfflineError` naming the page and
    address if a page still loads a remote script, stylesheet or image afterwards (a GX
    upgrade that adds a CDN asset must fail loudly, not render half-styled).
    """
    target = site / VENDOR
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(ASSETS, target, ignore=shutil.ignore_patterns("LICENSES.md"))
    shutil.copy2(ASSETS / "LICENSES.md", target / "LICENSES.md")
    pages = 0
    for page in sorted(site.rglob("*.html")):
        text = page.read_text(encoding="utf-8")
        to_site = Path(os.path.relpath(site, page.parent)).as_posix()
        relative = f"{to_site}/{VENDOR.as_posix()}"
        text = _SITE_STATIC.sub(rf"\g<attr>{to_site}/static/", text)
        for url, name in CDN_FILES.items():
            text = text.replace(f'"{url}"', f'"{relative}/{name}"')
        text = _REMOTE_IMG.sub("", text)
        text = _REMOTE_CSS_URL.sub("none", text)
        remote = remote_assets(text)
        if remote:
            raise OfflineError(f"{page}: still loads {remote[0]} (add it to CDN_FILES)")
        page.write_text(text, encoding="utf-8")
        pages += 1
    for sheet in sorted(site.rglob("*.css")):
        css = sheet.read_text(encoding="utf-8")
        if _REMOTE_CSS_URL.search(css):
            sheet.write_text(_REMOTE_CSS_URL.sub("none", css), encoding="utf-8")
    return pages


def remote_assets(html: str) -> list[str]:
    """Addresses of scripts, stylesheets, images, frames and inline-CSS images a page loads
    from the network (links a reader may click, such as GX's documentation, are not loaded
    and not listed)."""
    loaded = [url for url in _LOADED_REF.findall(html) if re.match(r"(?i)https?:|//", url)]
    return loaded + _REMOTE_CSS_URL.findall(html)


def local_assets(html: str) -> list[str]:
    """Relative addresses of what a page loads (to check each file exists)."""
    return [
        url for url in _LOADED_REF.findall(html) if not re.match(r"(?i)https?:|//|data:|#", url)
    ]


# --------------------------------------------------------------------------------------------
# compiling GX's page templates once per process


def compile_templates_once() -> None:
    """Make every Data Docs view share one cache of compiled templates, and compile GX's page
    templates into it (once per process).

    GX renders a page through views that each build a Jinja environment of their own, so the
    same 44 templates were compiled again for every view: 274 compilations in a run of five
    suites, most of the checks stage's second. With a shared bytecode cache each template is
    compiled once per process, here — by a caller that is waiting anyway (for Prefect's
    temporary server) — rather than while the checks run. The pages are unchanged: Jinja
    checks each cached entry against its template's source.
    """
    from great_expectations.render.view.view import DefaultJinjaView

    if getattr(DefaultJinjaView, "_jkn_shared_cache", None):
        return
    cache = _shared_bytecode()
    build = DefaultJinjaView.__init__

    def init_sharing_the_cache(self: DefaultJinjaView, *args: object, **kwargs: object) -> None:
        build(self, *args, **kwargs)
        self.env.bytecode_cache = cache

    DefaultJinjaView.__init__ = init_sharing_the_cache  # type: ignore[method-assign]
    DefaultJinjaView._jkn_shared_cache = cache  # type: ignore[attr-defined]
    env = DefaultJinjaView().env
    # the HTML pages' templates (GX writes no Markdown Data Docs here)
    for name in env.list_templates(filter_func=lambda name: not name.startswith("markdown")):
        env.get_template(name)


def _shared_bytecode() -> BytecodeCache:
    """A process-wide, in-memory Jinja bytecode cache."""
    from jinja2 import BytecodeCache
    from jinja2.bccache import Bucket

    class SharedBytecode(BytecodeCache):
        def __init__(self) -> None:
            self.code: dict[str, bytes] = {}

        def load_bytecode(self, bucket: Bucket) -> None:
            if (code := self.code.get(bucket.key)) is not None:
                bucket.bytecode_from_string(code)  # ignored when the source has changed

        def dump_bytecode(self, bucket: Bucket) -> None:
            self.code[bucket.key] = bucket.bytecode_to_string()

    return SharedBytecode()
