"""The models of a guide folder's files (pydantic): ``catalogue.toml``, one guide per file and
``policies/*.toml``. ``kiosk/guides/loader.py`` reads the folder and turns each error into one
``file:line: field: message`` line (``kiosk/configfile.py::problems_of``)."""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated, Any

from pydantic import Field, model_validator

from kiosk.configfile import FieldProblems, Table, between, one_of, rule

from .model import CASE_TYPES, MATERIAL_FORMS

ID_RE = re.compile(r"^[a-z0-9][a-z0-9-]{1,63}$")
PHONE_RE = re.compile(r"^[0-9][0-9 ()\-、/，,转]*[0-9]$")
DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
WORKDAYS_RE = re.compile(r"^(\d+)个工作日$")


def _texts(value: list) -> str | None:
    for i, item in enumerate(value):
        if not item.strip():
            return f"item {i + 1} is empty"
    return None


def _date(value: Any) -> str | None:
    if isinstance(value, (str, date)) and DATE_RE.match(str(value)):
        return None
    return "must be a date YYYY-MM-DD"


Id = Annotated[str, rule(lambda v: None if ID_RE.match(v) else
                         "must be lowercase letters, digits and '-' (2-64 characters)")]
Text = Annotated[str, rule(lambda v: None if v.strip() else "must not be empty")]
Texts = Annotated[list[str], rule(_texts)]
SomeTexts = Annotated[list[str], rule(lambda v: "must list at least one item" if not v else _texts(v))]


class CategorySpec(Table):
    code: Id
    name: Text
    icon: Text = "general"
    description: str = ""


class CatalogueFile(Table):
    hot: list[str] = []
    guide_url: Annotated[str, rule(lambda v: None if not v or "{id}" in v else "must contain {id}")] = ""
    categories: list[CategorySpec]

    @model_validator(mode="after")
    def _distinct(self) -> "CatalogueFile":
        seen: list[str] = []
        problems = []
        for i, c in enumerate(self.categories):
            if c.code in seen:
                problems.append((f"categories[{i}].code", f"duplicate category '{c.code}'"))
            seen.append(c.code)
        if problems:
            raise FieldProblems(problems)
        return self


class MaterialSpec(Table):
    name: Text
    form: Annotated[str, one_of(*MATERIAL_FORMS)] = "原件"
    count: Annotated[int, between(1, 99)] = 1
    notes: str = ""


class GuideFile(Table):
    id: Id
    name: Text
    category: str
    case_type: Annotated[str, one_of(*CASE_TYPES)]
    window: Annotated[int, between(1, 999)]
    service: Text
    legal_basis: SomeTexts
    conditions: Texts = []
    materials: Annotated[list[MaterialSpec], rule(lambda v: None if v else
                                                  "must list at least one material ([[materials]])")]
    steps: SomeTexts
    legal_limit: Text
    promised_limit: Text
    fees: Text = "不收费"
    result: Text
    contact: Annotated[str, rule(lambda v: None if PHONE_RE.match(v) else "must be a phone number, e.g. 0123-6612301")]
    notes: Texts = []
    keywords: Texts = []

    @model_validator(mode="after")
    def _limits_agree(self) -> "GuideFile":
        """A promise longer than the law allows is a typing mistake worth catching."""
        legal, promised = WORKDAYS_RE.match(self.legal_limit), WORKDAYS_RE.match(self.promised_limit)
        if legal and promised and int(promised.group(1)) > int(legal.group(1)):
            raise FieldProblems([("promised_limit", f"'{self.promised_limit}' is longer than the legal limit "
                                                    f"'{self.legal_limit}'")])
        return self


class PolicyFile(Table):
    id: Id
    title: Text
    issuer: Text
    date: Annotated[Any, rule(_date)] = Field(description="YYYY-MM-DD, quoted or a bare TOML date")
    number: str = ""
    category: str = ""
    summary: str = ""
    body: SomeTexts
