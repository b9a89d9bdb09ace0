"""Read and validate a guide content folder.

Layout (see config/guides/):
    catalogue.toml          categories, hot items, the QR address of a guide
    <anything>/*.toml       one guide per file (folders are for people: one per category)
    policies/*.toml         policy documents

Every error names file, line and field, and all are reported at once, so a
supervisor fixes a folder in one pass. Nothing is returned unless the whole
folder is valid: a terminal keeps its last good content otherwise.
"""

from __future__ import annotations

import hashlib
import re
import tomllib
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from kiosk.configfile import ConfigError, ConfigInvalid, Problems, problems_of
from kiosk.domain import Hall
from kiosk.tomlpos import key_lines, line_of

from .files import CatalogueFile, GuideFile, PolicyFile
from .model import Category, Guide, GuideContent, Material, Policy

CATALOGUE_FILE = "catalogue.toml"
POLICY_FOLDER = "policies"


def _parse(model: type[BaseModel], data: dict) -> tuple[Any, Problems]:
    try:
        return model.model_validate(data), []
    except ValidationError as exc:
        return None, problems_of(exc, model)


class _File:
    """One parsed file and the errors found in it, with lines looked up by field path."""

    def __init__(self, path: Path, errors: list[ConfigError]):
        self.path = path
        self.data: dict | None = None
        self.lines: dict[str, int] = {}
        self.errors = errors
        self.raw = b""
        try:
            self.raw = path.read_bytes()
            text = self.raw.decode("utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            self.error("-", f"cannot read: {exc}", line=0)
            return
        try:
            self.data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            m = re.search(r"line (\d+)", str(exc))
            self.error("-", f"TOML syntax error: {exc}", line=int(m.group(1)) if m else 1)
            return
        self.lines = key_lines(text)

    def error(self, field: str, message: str, line: int | None = None) -> None:
        if line is None:
            line = line_of(self.lines, field)
        self.errors.append(ConfigError(str(self.path), line, field, message))

    def report(self, problems: Problems) -> None:
        for path, message in problems:
            self.error(path, message)


def _guide(f: _File) -> Guide | None:
    g, problems = _parse(GuideFile, f.data)
    f.report(problems)
    if g is None:
        return None
    return Guide(
        id=g.id, name=g.name.strip(), category=g.category, case_type=g.case_type,
        window=g.window, service=g.service, legal_basis=tuple(g.legal_basis),
        conditions=tuple(g.conditions), materials=tuple(Material(m.name, m.form, m.count, m.notes)
                                                        for m in g.materials),
        steps=tuple(g.steps), legal_limit=g.legal_limit, promised_limit=g.promised_limit, fees=g.fees,
        result=g.result, contact=g.contact, notes=tuple(g.notes),
        keywords=tuple(dict.fromkeys(k.strip() for k in g.keywords)), source=f.path,
    )


def _policy(f: _File) -> Policy | None:
    p, problems = _parse(PolicyFile, f.data)
    f.report(problems)
    if p is None:
        return None
    return Policy(id=p.id, title=p.title, issuer=p.issuer, date=str(p.date), body=tuple(p.body),
                  number=p.number, category=p.category, summary=p.summary, source=f.path)


def _cross_check(hall: Hall, guide: Guide, f: _File) -> None:
    window = hall.window(guide.window)
    if window is None:
        numbers = ", ".join(str(w.number) for w in hall.windows)
        f.error("window", f"no window {guide.window} in hall '{hall.name}' (windows: {numbers})")
    if hall.service(guide.service) is None:
        codes = ", ".join(s.code for s in hall.services)
        f.error("service", f"no service '{guide.service}' in hall '{hall.name}' (services: {codes})")
    elif window is not None and guide.service not in window.services:
        f.error("service", f"window {guide.window} does not serve '{guide.service}' "
                           f"(it serves: {', '.join(window.services)})")


def read_content(folder: Path | str, hall: Hall | None = None) -> tuple[GuideContent | None, list[ConfigError]]:
    """The folder's content and every error in it; content is None unless there are none.

    With ``hall``, each guide's window and service are checked against it.
    """
    folder = Path(folder)
    errors: list[ConfigError] = []
    if not folder.is_dir():
        return None, [ConfigError(str(folder), 0, "-", "folder not found")]
    files = sorted(p for p in folder.rglob("*.toml") if p.is_file())
    catalogue_path = folder / CATALOGUE_FILE
    if catalogue_path not in files:
        errors.append(ConfigError(str(catalogue_path), 0, "-", "file not found (categories are listed there)"))
    digest = hashlib.sha256()
    categories: list[Category] = []
    catalogue: dict = {"hot": [], "guide_url": ""}
    cat_file: _File | None = None
    guides: list[Guide] = []
    policies: list[Policy] = []
    guide_files: dict[str, _File] = {}
    policy_files: dict[str, _File] = {}
    seen_guides: dict[str, Path] = {}
    seen_policies: dict[str, Path] = {}
    named: set[str] = set()  # ids in guide files, valid or not: a broken guide is one error, not two
    unreadable = False
    for path in files:
        f = _File(path, errors)
        digest.update(path.relative_to(folder).as_posix().encode() + b"\0" + f.raw + b"\0")
        if f.data is None:
            unreadable = True
            continue
        if path == catalogue_path:
            cat_file = f
            parsed, problems = _parse(CatalogueFile, f.data)
            f.report(problems)
            if parsed is not None:
                catalogue = {"hot": parsed.hot, "guide_url": parsed.guide_url}
                categories = [Category(c.code, c.name, c.icon, c.description) for c in parsed.categories]
        elif path.relative_to(folder).parts[0] == POLICY_FOLDER:
            policy = _policy(f)
            if policy and policy.id in seen_policies:
                f.error("id", f"duplicate policy id '{policy.id}' (also in {seen_policies[policy.id]})")
            elif policy:
                seen_policies[policy.id] = path
                policy_files[policy.id] = f
                policies.append(policy)
        else:
            if isinstance(f.data.get("id"), str):
                named.add(f.data["id"])
            guide = _guide(f)
            if guide and guide.id in seen_guides:
                f.error("id", f"duplicate guide id '{guide.id}' (also in {seen_guides[guide.id]})")
            elif guide:
                seen_guides[guide.id] = path
                guide_files[guide.id] = f
                guides.append(guide)
    codes = [c.code for c in categories]
    for guide in guides:
        f = guide_files[guide.id]
        if cat_file is not None and guide.category not in codes:
            f.error("category", f"unknown category '{guide.category}' (known: {', '.join(codes)})")
        if hall is not None:
            _cross_check(hall, guide, f)
    for policy in policies:
        if policy.category and cat_file is not None and policy.category not in codes:
            policy_files[policy.id].error("category", f"unknown category '{policy.category}'")
    if cat_file is not None and not unreadable:
        for i, guide_id in enumerate(catalogue["hot"] or []):
            if guide_id not in named:
                cat_file.error(f"hot[{i}]", f"unknown guide id '{guide_id}'")
    if not guides and not errors:
        errors.append(ConfigError(str(folder), 0, "-", "no guides found (one *.toml file per guide)"))
    if errors:
        return None, errors
    order = {code: n for n, code in enumerate(codes)}
    guides.sort(key=lambda g: order[g.category])  # stable: file order within a category
    return GuideContent(
        categories=tuple(categories), guides=tuple(guides), policies=tuple(policies),
        hot=tuple(catalogue["hot"] or ()), guide_url=catalogue["guide_url"] or "",
        digest=digest.hexdigest(), folder=folder,
    ), []


def check_content(folder: Path | str, hall: Hall | None = None) -> list[ConfigError]:
    return read_content(folder, hall)[1]


def load_content(folder: Path | str, hall: Hall | None = None) -> GuideContent:
    content, errors = read_content(folder, hall)
    if content is None:
        raise ConfigInvalid(errors)
    return content
