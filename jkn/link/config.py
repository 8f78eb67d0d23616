"""The linkage settings (``settings.json``), typed and checked before anything is scored.

Every weight, threshold and margin is required and a number (a weight left out would make
every score NULL, silently); keys the model does not name are refused (a misspelt level would
otherwise be ignored); thresholds must be ordered and similarities within (0, 1]. An invalid
file raises :class:`LinkSettingsError` naming the file and each field at fault.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import Self

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

SETTINGS_PATH = Path(__file__).with_name("settings.json")
WEIGHT_BOUND = 64.0  # |log2 weight|: a factor of 2^64 either way is a typo, not evidence
UPPER_LETTERS = r"^[A-Z]+$"  # names are compared upper case, letters only (jkn_tokens)


class LinkSettingsError(ValueError):
    """The linkage settings file does not read as :class:`LinkSettings`."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True, allow_inf_nan=False)


Weight = Field(ge=-WEIGHT_BOUND, le=WEIGHT_BOUND)


class _Levels(_Strict):
    """One comparison's levels: the first names full agreement, ``different`` disagreement."""

    @model_validator(mode="after")
    def _agreement_for_disagreement_against(self) -> Self:
        weights = self.model_dump()
        first = next(iter(weights))
        if not weights[first] > 0 > weights["different"]:
            raise ValueError(
                f"'{first}' must weigh for a link (> 0) and 'different' against it (< 0), "
                f"not {weights[first]} and {weights['different']}"
            )
        return self


class NameWeights(_Levels):
    exact: float = Weight
    exact_single: float = Weight
    core: float = Weight
    close: float = Weight
    one_typo: float = Weight
    one_typo_short: float = Weight
    subset: float = Weight
    similar: float = Weight
    different: float = Weight


class DobWeights(_Levels):
    exact: float = Weight
    swap: float = Weight
    near: float = Weight
    year: float = Weight
    different: float = Weight
    missing: float = Weight


class NikWeights(_Levels):
    exact: float = Weight
    one_edit: float = Weight
    one_edit_serial: float = Weight
    one_edit_region_elsewhere: float = Weight
    two_edits: float = Weight
    different: float = Weight
    missing: float = Weight


class SexWeights(_Levels):
    same: float = Weight
    different: float = Weight
    missing: float = Weight


class PlaceWeights(_Levels):
    village: float = Weight
    kecamatan: float = Weight
    kabupaten: float = Weight
    different: float = Weight
    missing: float = Weight


class NoKkWeights(_Levels):
    same: float = Weight
    different: float = Weight
    missing: float = Weight


class Weights(_Strict):
    """log2 weight of each comparison's levels (``link_weights``; the levels 04_scores names)."""

    name: NameWeights
    dob: DobWeights
    nik: NikWeights
    sex: SexWeights
    place: PlaceWeights
    no_kk: NoKkWeights


class Levels(_Strict):
    """Where one comparison level ends and the next begins."""

    name_close: float = Field(gt=0, le=1, description="Jaro-Winkler at least this: 'close'")
    name_similar: float = Field(gt=0, le=1, description="at least this: 'similar'")
    dob_near_days: int = Field(ge=1, le=366, description="birth dates this near: 'near'")

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if not self.name_similar < self.name_close:
            raise ValueError(
                f"name_similar ({self.name_similar}) must be below name_close ({self.name_close})"
            )
        return self


class LinkSettings(_Strict):
    """``jkn/link/settings.json``: name variants, weights per comparison level, thresholds."""

    version: str = Field(min_length=1, description="kept with every decision's evidence")
    description: str
    name_tokens: dict[str, list[str]] = Field(
        description="canonical token → the spellings folded into it"
    )
    spelling: list[tuple[str, str]] = Field(description="letter groups replaced, in order")
    doubled_letters: str = Field(pattern=UPPER_LETTERS, description="letters undoubled")
    weights: Weights
    levels: Levels
    link_threshold: float = Field(description="a best candidate scoring this much links")
    review_threshold: float = Field(description="this much (but not linked): officers review")
    margin: float = Field(gt=0, description="how far the best must beat the runner-up")
    max_bucket: int = Field(
        ge=1,
        description="most people a record meets per blocking rule: a bucket holding more is "
        "split by a further field (03_blocks.sql)",
    )
    common_tokens: list[str] = Field(description="tokens left out of the similarity key")

    @field_validator("name_tokens")
    @classmethod
    def _tokens_letters_and_unambiguous(cls, value: dict[str, list[str]]) -> dict[str, list[str]]:
        seen: dict[str, str] = {}
        for canonical, variants in value.items():
            for token in (canonical, *variants):
                _check_token(token)
            for variant in variants:
                if variant in seen:
                    raise ValueError(
                        f"{variant!r} is a variant of both {seen[variant]!r} and {canonical!r}"
                    )
                seen[variant] = canonical
        return value

    @field_validator("spelling")
    @classmethod
    def _spelling_letters(cls, value: list[tuple[str, str]]) -> list[tuple[str, str]]:
        for pair in value:
            for token in pair:
                _check_token(token)
        return value

    @field_validator("common_tokens")
    @classmethod
    def _common_letters(cls, value: list[str]) -> list[str]:
        for token in value:
            _check_token(token)
        return value

    @model_validator(mode="after")
    def _thresholds_ordered(self) -> Self:
        if not self.review_threshold < self.link_threshold:
            raise ValueError(
                f"review_threshold ({self.review_threshold}) must be below link_threshold "
                f"({self.link_threshold})"
            )
        return self

    def weight_rows(self) -> list[dict[str, str | float]]:
        """One row per (comparison, level, weight), in the file's order (``link_weights``)."""
        return [
            {"comparison": comparison, "level": level, "weight": float(weight)}
            for comparison, levels in self.weights.model_dump().items()
            for level, weight in levels.items()
        ]


def _check_token(token: str) -> None:
    if not re.fullmatch(UPPER_LETTERS, token):
        raise ValueError(f"{token!r} is not upper-case letters A-Z only")


@cache
def load_settings(path: Path = SETTINGS_PATH) -> LinkSettings:
    """The linkage settings, checked; :class:`LinkSettingsError` names the file and the fields
    at fault when they do not read."""
    try:
        return LinkSettings.model_validate_json(path.read_bytes())
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in problem['loc']) or '(file)'}: {problem['msg']}"
            for problem in error.errors()
        )
        raise LinkSettingsError(f"{path}: invalid linkage settings: {problems}") from None
