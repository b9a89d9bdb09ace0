"""Search-as-you-type over 5,000 generated guides: one JSON line of figures.

The guides are the shipped ones varied (a village or office in front, a
variant after: 变更, 注销, （网上办理） ...), so names are all different while
the vocabulary stays a township's. Each query is typed letter by letter and
every prefix is timed as its own search (compiled fresh, as a keystroke is: the
query cache and the re module's cache are emptied before each try).

Two baselines, timed on the same keystrokes, interleaved with the index key by key
(the machine is shared: each keystroke's figure is the median of ``--repeats`` tries
of each, so a burst of load falls on all three alike):

  - ``baseline`` (the fair one, the scan a user would write first and keep): every
    name's pinyin (full and initials) computed once up front, then each keystroke tests
    substrings of the name, the full pinyin and the initials over the guides in display
    order, stopping at 20 hits. It does less than the index (no keywords, no 养老bx or
    yang老, one reading per character, no ranking beyond display order, no typos):
    ``baseline_queries_with_no_hit`` counts the keystrokes it answers with nothing.
    Its build (the pinyin pass) and the index's build are both reported, and
    ``break_even_keystrokes`` is how many keystrokes the index needs to win back its
    extra build time (null when it builds no slower, "never" when the mean keystroke is no
    faster: the index is for the slow keystrokes and the rules, not the average).
  - ``same_rules_scan``: the index's own rules and ranking with its candidate masks
    switched off (every guide tested by the regex): what the masks save.

    python bench/guide_search.py [--guides 5000] [--repeats 5]
"""

from __future__ import annotations

import argparse
import copy
import dataclasses
import gc
import json
import os
import random
import re
import statistics
import time
import tracemalloc

from pypinyin import Style, lazy_pinyin

from kiosk.guides import GuideCatalogue
from kiosk.guides.search_query import compile_query

PLACES = ("青石村", "白沙村", "柳树湾", "高桥村", "东岭村", "西河村", "南坪社区", "北山村", "石门村", "新田村",
          "长塘村", "枫林村", "龙潭村", "杨家坪", "大湾村", "镇社保所", "镇民政办", "镇农业站", "镇司法所", "")
VARIANTS = ("", "变更", "注销", "补办", "延续", "查询", "（个人）", "（单位）", "（网上办理）", "（村级代办）",
            "（绿色通道）", "年度审核", "信息确认", "资格复核")
QUERIES = ("yanglaobaoxian", "dibaoshenqing", "ylbx", "dbsq", "养老bx", "yang老", "zhaijidi", "gongjijin",
           "gaolingjintie", "yidijiuyi", "canjirenbutie", "shenfenzheng", "juzhuzhengming", "falvyuanzhu",
           "yanglap", "nongjibutie", "户口簿", "宅基地", "xinnonghe", "tudiliuzhuan")


def generate(content, count: int, seed: int = 7):
    rng = random.Random(seed)
    base = content.guides
    guides = []
    for n in range(count):
        g = base[n % len(base)]
        name = rng.choice(PLACES) + g.name + rng.choice(VARIANTS)
        guides.append(dataclasses.replace(g, id=f"{g.id}-{n}", name=name))
    return dataclasses.replace(content, guides=tuple(guides), hot=())


def keystrokes() -> list[str]:
    return [q[:k] for q in QUERIES for k in range(1, len(q) + 1)]


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def precompute(guides) -> list[tuple[object, str, str, str]]:
    """The baseline's one-off pass: (guide, name, full pinyin, initials) per guide."""
    rows = []
    for g in guides:
        readings = lazy_pinyin(g.name, style=Style.NORMAL)
        rows.append((g, g.name, "".join(readings), "".join(r[:1] for r in readings)))
    return rows


def scan_search(rows, query: str, limit: int = 20) -> list:
    hits = []
    query = query.lower()
    for g, name, full, initials in rows:
        if query in name or query in full or query in initials:
            hits.append(g)
            if len(hits) == limit:
                break
    return hits


def without_masks(catalogue) -> GuideCatalogue:
    """The same catalogue whose index tests every guide: its candidate masks all ones."""
    unmasked = copy.copy(catalogue)
    state = unmasked._state = copy.copy(catalogue._state)
    index = state.index = copy.copy(catalogue._state.index)
    for name in ("names", "keywords"):
        field = copy.copy(getattr(index, name))
        every = (1 << len(field.segments)) - 1
        field.candidates = lambda q, every=every: every
        field.starts_with = lambda q, every=every: every
        field.typo_candidates = lambda run, every=every: every
        setattr(index, name, field)
    return unmasked


def timed(search, query: str) -> tuple[float, list]:
    # a new keystroke compiles its query afresh: neither our cache nor the re module's may hold it
    # (re keeps 512 patterns: without the purge every try after the first got its regex for free)
    compile_query.cache_clear()
    re.purge()
    t = time.perf_counter()
    hits = search(query)
    return time.perf_counter() - t, hits


def break_even(extra_build_s: float, scan: list[float], index: list[float]) -> int | str | None:
    """Keystrokes (at the mean saving per keystroke) that pay back the index's extra build time:
    None when the index builds no slower, "never" when it saves nothing on the mean keystroke."""
    if extra_build_s <= 0:
        return None
    saving = statistics.mean(scan) - statistics.mean(index)
    return round(extra_build_s / saving) if saving > 0 else "never"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--guides", type=int, default=5000)
    parser.add_argument("--repeats", type=int, default=5, help="tries per keystroke (the median is taken)")
    args = parser.parse_args()
    content = generate(GuideCatalogue.load().content, args.guides)

    gc.collect()
    started = time.perf_counter()
    catalogue = GuideCatalogue(content)
    build_s = time.perf_counter() - started

    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    kept = GuideCatalogue(content)
    retained, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    del kept

    gc.collect()
    started = time.perf_counter()
    rows = precompute(content.guides)
    scan_build_s = time.perf_counter() - started
    unmasked = without_masks(catalogue)

    typed = keystrokes()
    times, scan, same, empty, scan_empty, differ = [], [], [], 0, 0, 0
    for query in typed:
        tries = {"index": [], "scan": [], "same": []}
        for _ in range(args.repeats):
            t, hits = timed(lambda q: catalogue.search(q, limit=20), query)
            tries["index"].append(t)
            t, scan_hits = timed(lambda q: scan_search(rows, q), query)
            tries["scan"].append(t)
            t, same_hits = timed(lambda q: unmasked.search(q, limit=20), query)
            tries["same"].append(t)
        times.append(statistics.median(tries["index"]))
        scan.append(statistics.median(tries["scan"]))
        same.append(statistics.median(tries["same"]))
        empty += not hits
        scan_empty += not scan_hits
        differ += [h.guide.id for h in hits] != [h.guide.id for h in same_hits]
    if differ:
        raise SystemExit(f"the index without its masks answered {differ} keystrokes differently")

    ms = lambda s: round(s * 1000, 3)  # noqa: E731
    print(json.dumps({
        "bench": "guide_search",
        "guides": len(content.guides),
        "keystroke_queries": len(typed),
        "queries_with_no_hit": empty,
        "search_p50_ms": ms(statistics.median(times)),
        "search_p95_ms": ms(percentile(times, 95)),
        "search_max_ms": ms(max(times)),
        "timing": f"per keystroke the median of {args.repeats} tries, index and baselines interleaved key by key",
        "baseline": "scan with pinyin precomputed (full + initials per name, substring test per key, "
                    "first 20 hits in display order; no keywords, mixed input, other readings or typos)",
        "baseline_queries": len(typed),
        "baseline_queries_with_no_hit": scan_empty,
        "baseline_p50_ms": ms(statistics.median(scan)),
        "baseline_p95_ms": ms(percentile(scan, 95)),
        "baseline_build_s": round(scan_build_s, 3),
        "speedup_p50": round(statistics.median(scan) / statistics.median(times), 2),
        "speedup_p95": round(percentile(scan, 95) / percentile(times, 95), 2),
        "index_build_s": round(build_s, 3),
        "break_even_keystrokes": break_even(build_s - scan_build_s, scan, times),
        "same_rules_scan": "the index's rules and ranking with its candidate masks off (every guide tested)",
        "same_rules_scan_p50_ms": ms(statistics.median(same)),
        "same_rules_scan_p95_ms": ms(percentile(same, 95)),
        "speedup_p95_over_same_rules_scan": round(percentile(same, 95) / percentile(times, 95), 2),
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "index_memory_mb": round((retained - before) / 2**20, 1),
        "index_build_peak_mb": round((peak - before) / 2**20, 1),
    }, ensure_ascii=False))


if __name__ == "__main__":
    main()
