"""Search-as-you-type over 5,000 generated guides: one JSON line of figures.

The guides are the shipped ones varied (a village or office in front, a
variant after: 变更, 注销, （网上办理） ...), so names are all different while
the vocabulary stays a township's. Each query is typed letter by letter and
every prefix is timed as its own search (compiled fresh, as a keystroke is).
The baseline is the scan a user would write first and keep: every name's pinyin
(full and initials) computed once up front, then each keystroke tests substrings of
the name, the full pinyin and the initials over all guides. It is timed on the same
keystrokes; its own build (the pinyin pass) and the index's build are both reported.

    python bench/guide_search.py [--guides 5000]
"""

from __future__ import annotations

import argparse
import dataclasses
import gc
import json
import random
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


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--guides", type=int, default=5000)
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

    typed = keystrokes()
    times, empty = [], 0
    for query in typed:
        compile_query.cache_clear()
        t = time.perf_counter()
        hits = catalogue.search(query, limit=20)
        times.append(time.perf_counter() - t)
        empty += not hits

    gc.collect()
    started = time.perf_counter()
    rows = precompute(content.guides)
    scan_build_s = time.perf_counter() - started
    scan, scan_empty = [], 0
    for query in typed:
        t = time.perf_counter()
        scan_empty += not scan_search(rows, query)
        scan.append(time.perf_counter() - t)

    ms = lambda s: round(s * 1000, 3)  # noqa: E731
    print(json.dumps({
        "bench": "guide_search",
        "guides": len(content.guides),
        "keystroke_queries": len(typed),
        "queries_with_no_hit": empty,
        "search_p50_ms": ms(statistics.median(times)),
        "search_p95_ms": ms(percentile(times, 95)),
        "search_max_ms": ms(max(times)),
        "baseline": "scan with pinyin precomputed (full + initials per name, substring test per key)",
        "baseline_queries": len(typed),
        "baseline_queries_with_no_hit": scan_empty,
        "baseline_p50_ms": ms(statistics.median(scan)),
        "baseline_p95_ms": ms(percentile(scan, 95)),
        "baseline_build_s": round(scan_build_s, 3),
        "speedup_p95": round(percentile(scan, 95) / percentile(times, 95), 2),
        "index_build_s": round(build_s, 3),
        "index_memory_mb": round((retained - before) / 2**20, 1),
        "index_build_peak_mb": round((peak - before) / 2**20, 1),
    }, ensure_ascii=False))


if __name__ == "__main__":
    main()
