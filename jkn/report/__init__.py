"""The monthly forum report: one offline page per kab/kota and province, in Bahasa Indonesia
or English, from the published marts only (ARCHITECTURE.md, "The forum report").

:func:`write_report` reads the ``forum_*`` queries of ``warehouse/sql/reports`` over the marts
file opened read-only (never the restricted file), builds each page's figures and sentences
(texts from the catalogues, :mod:`jkn.report.i18n`), draws the charts offline
(:mod:`jkn.report.charts`), writes ``index.html`` and ``<region_code>.html`` (self-contained: no
script, no file or network fetched) and prints each to PDF with headless Chromium
(:mod:`jkn.report.pdf`).
"""

from jkn.report.build import ReportError, ReportResult, report_dir, write_report
from jkn.report.i18n import LANGUAGES, UnknownLanguage

__all__ = [
    "LANGUAGES",
    "ReportError",
    "ReportResult",
    "UnknownLanguage",
    "report_dir",
    "write_report",
]
