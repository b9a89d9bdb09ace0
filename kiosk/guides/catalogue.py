"""The guide catalogue a terminal shows: categories, lists, hot items, search, policies.

Content is replaced as a whole (``replace``) after it validated, e.g. when a
newer version arrives from the hall server; the search index is rebuilt first
and swapped in with the content in one assignment, so a screen never sees new
guides with an old index.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from kiosk import paths
from kiosk.domain import Hall

from .loader import load_content
from .model import Category, Guide, GuideContent, Policy
from .search import Match, Searchable, SearchIndex


@dataclass(frozen=True)
class SearchHit:
    guide: Guide
    kind: str  # name-exact, keyword-exact, name-prefix, name, keyword-prefix, keyword, *-typo, body
    score: int
    span: tuple[int, int] | None = None  # characters of guide.name to highlight
    keyword: str | None = None  # the keyword that matched, to show beside the name


class _State:
    def __init__(self, content: GuideContent):
        self.content = content
        self.by_id = {g.id: g for g in content.guides}
        self.by_category: dict[str, list[Guide]] = {c.code: [] for c in content.categories}
        for g in content.guides:
            self.by_category[g.category].append(g)
        hot_rank = {gid: n for n, gid in enumerate(content.hot)}
        # Display order for search: hot items first, then shorter (more specific) names.
        self.ranked = sorted(content.guides, key=lambda g: (hot_rank.get(g.id, len(hot_rank)), len(g.name)))
        self.index = SearchIndex([Searchable(g.name, g.keywords, g.body_text()) for g in self.ranked])
        self.policies = {p.id: p for p in content.policies}


class GuideCatalogue:
    def __init__(self, content: GuideContent):
        self._state = _State(content)

    @classmethod
    def load(cls, folder: Path | str | None = None, hall: Hall | None = None) -> "GuideCatalogue":
        """The catalogue of ``folder`` (default: the shipped sample content); raises ConfigInvalid."""
        return cls(load_content(folder or paths.SAMPLE_GUIDES, hall))

    def replace(self, content: GuideContent) -> None:
        """Swap in new, already validated content (the index is built before the swap)."""
        self._state = _State(content)

    @property
    def content(self) -> GuideContent:
        return self._state.content

    @property
    def version(self) -> str:
        return self._state.content.digest

    def categories(self) -> list[Category]:
        return list(self._state.content.categories)

    def category(self, code: str) -> Category | None:
        return next((c for c in self._state.content.categories if c.code == code), None)

    def guides(self, category: str | None = None) -> list[Guide]:
        """All guides in catalogue order, or one category's."""
        state = self._state
        if category is None:
            return list(state.content.guides)
        return list(state.by_category.get(category, ()))

    def guide(self, guide_id: str) -> Guide | None:
        return self._state.by_id.get(guide_id)

    def hot(self) -> list[Guide]:
        state = self._state
        return [state.by_id[gid] for gid in state.content.hot if gid in state.by_id]

    def policies(self) -> list[Policy]:
        return list(self._state.content.policies)

    def policy(self, policy_id: str) -> Policy | None:
        return self._state.policies.get(policy_id)

    def search(self, query: str, limit: int | None = 20) -> list[SearchHit]:
        """Ranked guides for what the visitor has typed so far (hanzi, pinyin, initials, mixed)."""
        state = self._state  # one snapshot: a replace() during the search cannot mix versions
        return [self._hit(state, m) for m in state.index.search(query, limit)]

    @staticmethod
    def _hit(state: _State, m: Match) -> SearchHit:
        return SearchHit(state.ranked[m.index], m.kind, m.score, m.span, m.keyword)

    def guide_url(self, guide: Guide, public_url: str = "") -> str:
        """What the notice slip's QR code holds: the hall server's guide page ``{public_url}/g/{id}``,
        else the content's own address template, else nothing (no QR: no meaningless codes)."""
        if public_url:
            return f"{public_url.rstrip('/')}/g/{guide.id}"
        template = self._state.content.guide_url
        return template.replace("{id}", guide.id) if template else ""
