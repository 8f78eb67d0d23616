"""The report's language: its texts from the gettext catalogues under ``locale/`` and its
numbers, percentages, rupiah and dates formatted by Babel for the locale.

Every text a reader sees is a catalogue entry (``locale/<lang>/LC_MESSAGES/report.po``, read at
run time with Babel's ``read_po``); ``msgid`` is a key and ``msgstr`` the text, with ``{name}``
fields filled in with figures already formatted here.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from babel import Locale
from babel.dates import format_date, format_datetime
from babel.messages.pofile import read_po
from babel.numbers import format_decimal, format_percent, get_decimal_symbol, get_group_symbol

LOCALE_DIR = Path(__file__).parent / "locale"
LANGUAGES = ("id", "en")  # Bahasa Indonesia first: the default


class UnknownLanguage(ValueError):
    """A language the report has no catalogue for."""


@cache
def catalogue(lang: str) -> dict[str, str]:
    """The texts of ``lang``, key → text (read once per process)."""
    if lang not in LANGUAGES:
        raise UnknownLanguage(
            f"no report texts in language {lang!r}: give one of {', '.join(LANGUAGES)}"
        )
    path = LOCALE_DIR / lang / "LC_MESSAGES" / "report.po"
    with path.open("rb") as po:
        read = read_po(po, locale=lang)
    return {str(m.id): str(m.string) for m in read if m.id}


@dataclass(frozen=True)
class Language:
    """Texts and formats of one language (``id`` or ``en``)."""

    lang: str
    texts: dict[str, str] = field(repr=False)

    @classmethod
    def of(cls, lang: str) -> Language:
        return cls(lang, catalogue(lang))

    @property
    def locale(self) -> Locale:
        return Locale.parse(self.lang)

    def t(self, key: str, **figures: Any) -> str:
        """The text ``key`` with its ``{name}`` fields filled in."""
        return self.texts[key].format(**figures)

    def check(self, name: str) -> str:
        """A check of the extracts in plain words (``check_<name>``); a check this version
        does not know (published by another version) by its name."""
        return self.texts.get(f"check_{name}", name)

    def number(self, value: int | float | None) -> str:
        return "—" if value is None else format_decimal(value, locale=self.lang)

    def pct(self, value: float | None) -> str:
        """A fraction as a percentage with two decimals (98,23% in id, 98.23% in en)."""
        return "—" if value is None else format_percent(value, "#,##0.00%", locale=self.lang)

    def pct_rule(self, value: float | None) -> str:
        """A threshold as few decimals as it has (95%, 98,6%)."""
        return "—" if value is None else format_percent(value, "#,##0.##%", locale=self.lang)

    def rupiah(self, value: int | float | None) -> str:
        return (
            "—"
            if value is None
            else self.t("rupiah", amount=format_decimal(value, "#,##0", locale=self.lang))
        )

    def month(self, day: dt.date) -> str:
        return format_date(day, "MMMM y", locale=self.lang)

    def short_month(self, day: dt.date) -> str:
        return format_date(day, "MMM y", locale=self.lang)

    def date(self, day: dt.date) -> str:
        return format_date(day, "long", locale=self.lang)

    def moment(self, when: dt.datetime) -> str:
        return format_datetime(when, "d MMMM y HH:mm zzz", tzinfo=when.tzinfo, locale=self.lang)

    def vega_locale(self) -> dict[str, Any]:
        """The number format Vega draws axes with, from Babel's symbols for the locale."""
        return {
            "decimal": get_decimal_symbol(self.lang),
            "thousands": get_group_symbol(self.lang),
            "grouping": [3],
            "currency": ["Rp", ""],
            "percent": "%",
        }
