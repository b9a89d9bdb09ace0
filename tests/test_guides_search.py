"""Search quality over the shipped guides: what a villager types -> what must come first."""

from __future__ import annotations

import dataclasses

import pytest

from kiosk.guides import GuideCatalogue
from kiosk.guides.search import SCORE, Searchable, SearchIndex
from kiosk.guides.search_query import TYPO_MIN


@pytest.fixture(scope="module")
def catalogue() -> GuideCatalogue:
    return GuideCatalogue.load()


FIRST_HIT = [
    # Chinese substring
    ("养老", "yanglao-zhuanyi"),  # a name that starts with it beats one that contains it
    ("宅基地", "zhaijidi-jianfang"),
    ("异地就医", "yidi-jiuyi-beian"),
    ("居住证明", "juzhu-zhengming"),
    ("耕地", "gengdi-dili-butie"),
    ("公积金", "gongjijin-zufang-tiqu"),
    ("基本医疗", "cxjm-yibao-canbao"),
    # full pinyin, whole and half typed
    ("yanglao", "yanglao-zhuanyi"),
    ("yidijiuyi", "yidi-jiuyi-beian"),
    ("yidiji", "yidi-jiuyi-beian"),
    ("zhaijidi", "zhaijidi-jianfang"),
    ("gaolingjintie", "gaoling-jintie"),
    ("falvyuanzhu", "falv-yuanzhu"),
    ("shengyudengji", "shengyu-dengji"),
    ("juzhu", "juzhu-zhengming"),
    # initials
    ("dbsq", "dibao-shenqing"),
    ("ylbx", "cxjm-yanglao-canbao"),
    ("ydjy", "yidi-jiuyi-beian"),
    ("jzzm", "juzhu-zhengming"),
    ("gjj", "gongjijin-zufang-tiqu"),
    ("flyz", "falv-yuanzhu"),
    ("sfz", "shenfenzheng"),
    ("zhfang", "gongjijin-zufang-tiqu"),  # zh as an initial
    # mixtures
    ("养老bx", "cxjm-yanglao-canbao"),
    ("yang老", "yanglao-zhuanyi"),
    ("ylbaoxian", "cxjm-yanglao-canbao"),
    ("低保sq", "dibao-shenqing"),
    ("残疾rz", "canjiren-zheng"),
    # one typo in longer pinyin
    ("yanglap", "cxjm-yanglao-canbao"),  # among equal typo hits, the hot item first
    ("yidijiuiy", "yidi-jiuyi-beian"),
    ("zhaijdi", "zhaijidi-jianfang"),
    ("gaolingjingtie", "gaoling-jintie"),
    # keywords and the words villagers use
    ("低保", "dibao-shenqing"),
    ("吃低保", "dibao-shenqing"),
    ("dibao", "dibao-shenqing"),
    ("wubao", "tekun-gongyang"),
    ("新农合", "cxjm-yibao-canbao"),
    ("xinnonghe", "cxjm-yibao-canbao"),
    ("gaifangzi", "zhaijidi-jianfang"),
    ("taoxin", "falv-yuanzhu"),
    ("户口本", "hukoubu-buling"),
    ("慢性病", "menzhen-manbing"),
    ("12348", "falv-yuanzhu"),
    ("SFZ", "shenfenzheng"),  # upper case from a keyboard
    ("ｄｂｓｑ", "dibao-shenqing"),  # full-width letters
    # the guide's text (materials, conditions)
    ("无房承诺书", "gongjijin-zufang-tiqu"),
    ("购机发票", "nongji-butie"),
]


@pytest.mark.parametrize("query, expected", FIRST_HIT)
def test_first_hit(catalogue, query, expected):
    hits = catalogue.search(query)
    assert hits, f"{query!r} found nothing"
    assert hits[0].guide.id == expected, [(h.guide.id, h.kind) for h in hits[:5]]


def test_every_kind_of_query_is_in_the_table(catalogue):
    kinds = {catalogue.search(q)[0].kind for q, _ in FIRST_HIT}
    assert {"name-prefix", "name", "keyword-exact", "name-typo", "body"} <= kinds


def test_short_queries_stay_precise(catalogue):
    # "dbsw" is one letter from "dbsq", but below TYPO_MIN letters no typo is forgiven
    assert len("dbsw") < TYPO_MIN
    assert catalogue.search("dbsw") == []
    assert catalogue.search("qqqqqq") == []


def test_a_piece_is_a_whole_reading_or_an_abbreviation(catalogue):
    # "ju" is not a whole reading of 军 (jun): "juzhu" must not reach 军属 via 属's reading zhu
    assert all(h.keyword != "军属" for h in catalogue.search("juzhu"))


def test_typo_hits_rank_below_exact_hits(catalogue):
    kinds = [h.kind for h in catalogue.search("dibaoshenqing", limit=None)]
    assert kinds[0] == "keyword-exact"
    assert kinds == sorted(kinds, key=lambda k: -SCORE[k])


def test_scores_never_increase_down_the_list(catalogue):
    for query in ("y", "ya", "bao", "shenqing", "证明", "dj", "补贴"):
        scores = [h.score for h in catalogue.search(query, limit=None)]
        assert scores == sorted(scores, reverse=True), query


def test_span_marks_the_matched_characters(catalogue):
    hit = catalogue.search("jbyl")[0]
    assert hit.guide.id == "cxjm-yanglao-canbao"
    start, end = hit.span
    assert hit.guide.name[start:end] == "基本养老"


def test_limit_and_empty_queries(catalogue):
    assert len(catalogue.search("s", limit=3)) == 3
    assert catalogue.search("", limit=3) == []
    assert catalogue.search("  ，。", limit=3) == []
    assert catalogue.search("s", limit=0) == []


def test_one_result_per_guide(catalogue):
    ids = [h.guide.id for h in catalogue.search("bao", limit=None)]
    assert len(ids) == len(set(ids))


def test_context_reading_and_other_readings():
    index = SearchIndex([Searchable("重庆银行网点"), Searchable("参保登记")])
    assert [m.index for m in index.search("cq")] == [0]
    assert [m.index for m in index.search("chongqing")] == [0]
    # 重庆: the context settles the reading; zhongqing is only one typo away
    assert [m.kind for m in index.search("zhongqing")] == ["name-typo"]
    assert index.search("zhq") == []
    assert [m.index for m in index.search("shenbao")] == [1]  # 参 outside a known phrase keeps shen


def test_replace_rebuilds_the_index(catalogue):
    fresh = GuideCatalogue(catalogue.content)
    old = fresh.guide("dibao-shenqing")
    renamed = dataclasses.replace(old, name="农村低保对象认定", keywords=())
    guides = tuple(renamed if g.id == old.id else g for g in fresh.content.guides)
    fresh.replace(dataclasses.replace(fresh.content, guides=guides))
    assert fresh.search("ncdb")[0].guide.id == "dibao-shenqing"
    assert fresh.search("吃低保") == [] or fresh.search("吃低保")[0].kind == "body"
    assert catalogue.search("dbsq")[0].guide.id == "dibao-shenqing"  # the original is untouched


def test_candidates_never_leave_out_a_match(catalogue):
    """The masks only narrow the regex's work: every text the query's pattern matches is a candidate,
    and every text it matches from the first character is in ``starts_with``."""
    import random

    from kiosk.guides.search_query import compile_query

    index = catalogue._state.index
    rng = random.Random(5)
    queries = {"zhaij", "ylbx", "dbsq", "yang老", "养老bx", "shenfenzheng", "juzhu", "chongqing", "zhq"}
    for field in (index.names, index.keywords):
        for unit in (u for units in field.units for u in units):
            full = "".join(s.readings[rng.randrange(len(s.readings))] if s.readings else s.char for s in unit)
            heads = "".join(s.readings[0][0] if s.readings else s.char for s in unit)
            queries |= {full[:rng.randint(1, len(full))], heads[:rng.randint(1, len(heads))],
                        heads[:2] + full[3:9], unit[0].char + full[len(unit[0].readings[0]) if unit[0].readings else 1:]}
    queries |= {"".join(rng.choice("abcdefghjklmnopqrstwxyz") for _ in range(rng.randint(1, 6))) for _ in range(300)}
    checked = at_start = 0
    for text in queries:
        q = compile_query(text)
        for field in (index.names, index.keywords):
            candidates, starts = field.candidates(q), field.starts_with(q)
            for i, segment in enumerate(field.segments):
                if q.pattern.search(segment):
                    checked += 1
                    assert candidates >> i & 1, (text, field.texts[i])
                if q.at_start(segment, field.starts[i], whole=False):
                    at_start += 1
                    assert starts >> i & 1, (text, field.texts[i])
    assert checked > 1000 and at_start > 500
