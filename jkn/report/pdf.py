"""Printing a page to PDF with headless Chromium (Debian's ``chromium``), the network cut off."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path


def chromium() -> str | None:
    """Debian's Chromium on this machine, or None."""
    return shutil.which("chromium") or shutil.which("chromium-browser")


def chromium_args(browser: str, profile: Path) -> list[str]:
    """Headless Chromium that reaches no network: every host name fails to resolve."""
    return [
        browser,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={profile}",
        "--host-resolver-rules=MAP * ~NOTFOUND",
    ]


class PrintFailed(RuntimeError):
    """Chromium did not write the PDF."""


def print_pdfs(pages: list[Path], browser: str, timeout_s: float = 120) -> list[Path]:
    """Print each HTML page to a PDF beside it (``<page>.pdf``); returns the PDFs."""
    written = []
    with tempfile.TemporaryDirectory(prefix="jkn-report-chromium-") as profile:
        for page in pages:
            pdf = page.with_suffix(".pdf")
            pdf.unlink(missing_ok=True)
            done = subprocess.run(
                [
                    *chromium_args(browser, Path(profile)),
                    "--no-pdf-header-footer",
                    f"--print-to-pdf={pdf}",
                    page.resolve().as_uri(),
                ],
                capture_output=True,
                text=True,
                timeout=timeout_s,
                check=False,
            )
            if not pdf.is_file() or pdf.stat().st_size == 0:
                raise PrintFailed(
                    f"Chromium did not print {page.name} to PDF (exit {done.returncode}); "
                    "the HTML pages are written, print them from a browser"
                )
            written.append(pdf)
    return written
