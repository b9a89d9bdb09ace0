"""Guide content: categories, service guides (办事指南) and policy documents (政策文件)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path

CASE_TYPES = ("即办件", "承诺件", "限时件", "补办件", "建议件")
MATERIAL_FORMS = ("原件", "复印件", "原件及复印件", "电子件")


@dataclass(frozen=True)
class Category:
    code: str
    name: str
    icon: str = "general"
    description: str = ""


@dataclass(frozen=True)
class Material:
    name: str
    form: str = "原件"  # 原件 / 复印件 / 原件及复印件 / 电子件
    count: int = 1
    notes: str = ""


@dataclass(frozen=True)
class Guide:
    id: str
    name: str
    category: str
    case_type: str
    window: int
    service: str  # the hall service whose ticket this guide leads to
    legal_basis: tuple[str, ...]
    conditions: tuple[str, ...]
    materials: tuple[Material, ...]
    steps: tuple[str, ...]
    legal_limit: str
    promised_limit: str
    fees: str
    result: str
    contact: str
    notes: tuple[str, ...] = ()
    keywords: tuple[str, ...] = ()
    source: Path | None = field(default=None, compare=False)

    def to_dict(self) -> dict:
        """Plain data with the field names of the content files (for JSON)."""
        data = asdict(self)
        data.pop("source")
        for key, value in data.items():
            if isinstance(value, tuple):
                data[key] = list(value)
        return data

    def body_text(self) -> str:
        """Everything a visitor might search for beyond the name and keywords."""
        parts = [*self.conditions, *self.steps, *self.notes, *self.legal_basis, self.result, self.fees]
        for m in self.materials:
            parts += [m.name, m.notes]
        return "\n".join(p for p in parts if p)


@dataclass(frozen=True)
class Policy:
    id: str
    title: str
    issuer: str
    date: str  # YYYY-MM-DD
    body: tuple[str, ...]  # paragraphs
    number: str = ""  # 文号
    category: str = ""
    summary: str = ""
    source: Path | None = field(default=None, compare=False)

    def to_dict(self) -> dict:
        data = asdict(self)
        data.pop("source")
        data["body"] = list(self.body)
        return data


@dataclass(frozen=True)
class GuideContent:
    """One validated content folder, as a whole: it is swapped in or rejected as a whole."""

    categories: tuple[Category, ...]
    guides: tuple[Guide, ...]
    policies: tuple[Policy, ...] = ()
    hot: tuple[str, ...] = ()  # guide ids shown on the home screen, in order
    guide_url: str = ""  # QR target on the notice slip; "{id}" is replaced by the guide id
    digest: str = ""  # of the files' bytes: a version to compare with the server's
    folder: Path | None = None
