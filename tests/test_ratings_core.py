"""kiosk.ratings: validation, exactly-once storage, statistics arithmetic, working days, follow-ups."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from kiosk.domain import Hall, Window
from kiosk.ratings.followup import record_rating
from kiosk.ratings.model import (BAD_LEVELS, DEFAULT_FOLLOWUP_DAYS, LEVELS, Rating, RatingError, make_rating,
                                 validate_rating)
from kiosk.ratings.store import RatingStore
from kiosk.ratings.tables import RATING_MIGRATIONS
from kiosk.ratings.workdays import add_working_days
from kiosk.storage.db import open_engine
from kiosk.storage.schema import schema_versions

REASONS = (("attitude", "服务态度差"), ("slow", "办事效率低"), ("other", "其他"))
TZ = ZoneInfo("Asia/Shanghai")

HALL = Hall(
    name="测试镇便民服务中心", code="t", windows=(Window(1, "劳动保障", ("labor",)), Window(2, "医疗保障", ("medical",))),
    closed_weekdays=frozenset({6, 7}),
    # 2026: New Year's Day, Spring Festival week; 2026-02-14 (Sat) and 2026-02-28 (Sat) are 调休 working days
    closed_dates=frozenset({date(2026, 1, 1), *(date(2026, 2, d) for d in range(16, 21)),
                            *(date(2026, 10, d) for d in (1, 2, 5, 6, 7))}),
    open_dates=frozenset({date(2026, 2, 14), date(2026, 2, 28), date(2026, 10, 10)}),
    rating_reasons=REASONS,
)


def ts(y, m, d, hh=10, mm=0) -> float:
    return datetime(y, m, d, hh, mm, tzinfo=TZ).timestamp()


@pytest.fixture
def engine(tmp_path):
    e = open_engine(f"sqlite:///{tmp_path / 'r.db'}")
    yield e
    e.dispose()


@pytest.fixture
def store(engine):
    return RatingStore(engine, HALL.code, "Asia/Shanghai")


def rating(key, level, *, window=1, reasons=None, ticket=None, staff="clerk", service="labor", at=None, phone=None):
    if reasons is None:
        reasons = ("slow",) if level in BAD_LEVELS else ()
    return make_rating(HALL, key=key, level=level, window=window, reasons=reasons, phone=phone, ticket_id=ticket,
                       ticket_number="A001" if ticket else None, staff=staff, service=service,
                       created_at=at if at is not None else ts(2026, 3, 2))


def count(engine, table="ratings") -> int:
    with engine.connect() as conn:
        return conn.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar()


# -------------------------------------------------------------- validation

def test_levels_are_the_national_scale():
    assert LEVELS == {5: "非常满意", 4: "满意", 3: "基本满意", 2: "不满意", 1: "非常不满意"}
    assert BAD_LEVELS == frozenset({1, 2})


@pytest.mark.parametrize("kwargs, field", [
    (dict(level=0), "level"),
    (dict(level=6), "level"),
    (dict(level=True), "level"),
    (dict(level="5"), "level"),
    (dict(level=4.0), "level"),
    (dict(level=2, reasons=()), "reasons"),
    (dict(level=1, reasons=None), "reasons"),
    (dict(level=5, reasons=("slow",)), "reasons"),
    (dict(level=None, reasons=("slow",)), "reasons"),
    (dict(level=1, reasons=("slow", "nope")), "reasons[1]"),
    (dict(level=1, reasons=("slow", "slow")), "reasons"),
    (dict(level=5, phone="12812345678"), "phone"),
    (dict(level=5, phone="1381234567"), "phone"),
    (dict(level=5, phone="138123456789"), "phone"),
    (dict(level=5, phone="1381234567a"), "phone"),
    (dict(level=5, window=9), "window"),
    (dict(level=5, window=None), "window"),
])
def test_validation_names_the_field(kwargs, field):
    args = dict(level=5, reasons=(), phone=None, window=1) | kwargs
    with pytest.raises(RatingError) as info:
        validate_rating(HALL, **args)
    assert info.value.field == field
    assert info.value.code == "invalid"
    assert isinstance(info.value, ValueError)


@pytest.mark.parametrize("kwargs", [
    dict(level=5), dict(level=3), dict(level=None), dict(level=2, reasons=("attitude",)),
    dict(level=1, reasons=("attitude", "slow", "other"), phone="13912345678"), dict(level=4, phone="19900001111"),
])
def test_valid_ratings_pass(kwargs):
    validate_rating(HALL, **(dict(reasons=(), phone=None, window=2) | kwargs))


def test_make_rating_needs_a_key_and_marks_walk_ins():
    with pytest.raises(RatingError) as info:
        make_rating(HALL, key="", level=5, window=1)
    assert info.value.field == "key"
    walk_in = make_rating(HALL, key="k", level=5, window=1)
    assert walk_in.walk_in and walk_in.ticket_id is None and len(walk_in.id) == 32
    assert not make_rating(HALL, key="k2", level=5, window=1, ticket_id="t" * 32).walk_in


# ------------------------------------------------------------ exactly once

def test_same_key_returns_the_stored_rating_and_stores_nothing(store, engine):
    first, created = store.add(rating("key-1", 4))
    assert created and first.level == 4
    again, created = store.add(rating("key-1", 1, reasons=("attitude",)))  # a different body, the same key
    assert not created
    assert again == first and again.level == 4
    assert count(engine) == 1
    assert store.by_key("key-1") == first
    assert store.get(first.id) == first


def test_one_rating_per_ticket(store, engine):
    first, created = store.add(rating("a", None, ticket="t1"))  # timed out: unrated
    assert created and first.level is None
    second, created = store.add(rating("b", 5, ticket="t1"))
    assert not created and second.id == first.id and second.level is None
    assert store.by_ticket("t1") == first
    other, created = store.add(rating("c", 5, ticket="t2"))
    assert created
    assert count(engine) == 2


def test_walk_ins_without_ticket_are_distinct(store, engine):
    for i in range(3):
        assert store.add(rating(f"w{i}", 5, ticket=None))[1]
    assert count(engine) == 3


def test_rating_round_trips_every_field(store):
    r = rating("full", 1, reasons=("attitude", "other"), ticket="t9", phone="13800138000", at=ts(2026, 3, 2, 9, 30))
    r.terminal = "evaluator-1"
    store.add(r)
    got = store.get(r.id)
    assert got == r
    assert isinstance(got, Rating) and got.reasons == ("attitude", "other") and got.bad


def test_migration_component_is_ratings(engine):
    RatingStore(engine, "t")
    RatingStore(engine, "t")  # opening again migrates nothing
    with engine.connect() as conn:
        versions = dict(conn.execute(sa.select(schema_versions.c.component, schema_versions.c.version)).all())
    assert versions["ratings"] == len(RATING_MIGRATIONS)


# ---------------------------------------------------------------- statistics

def test_stats_arithmetic_excludes_unrated(store):
    levels = [5, 5, 5, 4, 3, 2, 1, 1, None, None]
    for i, lv in enumerate(levels):
        store.add(rating(f"s{i}", lv))
    s = store.stats("2026-03-02", "2026-03-02")
    assert s["levels"] == {1: 2, 2: 1, 3: 1, 4: 1, 5: 3}
    assert s["total"] == 8 and s["unrated"] == 2 and s["bad"] == 3 and s["satisfied"] == 5
    assert s["satisfaction_rate"] == pytest.approx(5 / 8)


def test_stats_with_only_unrated_has_no_rate(store):
    store.add(rating("u1", None))
    s = store.stats(date(2026, 3, 2), date(2026, 3, 2))
    assert s["total"] == 0 and s["unrated"] == 1 and s["satisfaction_rate"] is None
    empty = store.stats("2026-03-03", "2026-03-09")
    assert empty["total"] == 0 and empty["unrated"] == 0 and empty["satisfaction_rate"] is None


def test_stats_days_are_local_and_inclusive(store):
    store.add(rating("late", 5, at=ts(2026, 3, 2, 23, 50)))  # 15:50 UTC, still the 2nd in the hall
    store.add(rating("early", 1, at=ts(2026, 3, 3, 0, 10)))  # 16:10 UTC on the 2nd, but the 3rd in the hall
    assert store.stats("2026-03-02", "2026-03-02")["levels"][5] == 1
    assert store.stats("2026-03-02", "2026-03-02")["bad"] == 0
    assert store.stats("2026-03-03", "2026-03-03")["bad"] == 1
    assert store.stats("2026-03-01", "2026-03-03")["total"] == 2
    days = store.breakdown("day", "2026-03-01", "2026-03-31")
    assert set(days) == {"2026-03-02", "2026-03-03"}
    assert days["2026-03-03"]["satisfaction_rate"] == 0


def test_stats_filters_and_breakdowns(store):
    store.add(rating("a", 5, window=1, staff="wang", service="labor"))
    store.add(rating("b", 2, window=1, staff="wang", service="labor"))
    store.add(rating("c", 4, window=2, staff="li", service="medical"))
    store.add(rating("d", None, window=2, staff="li", service="medical"))
    store.add(rating("e", 3, window=2, staff="li", service=None))
    assert store.stats("2026-03-02", "2026-03-02", window=1)["satisfaction_rate"] == 0.5
    assert store.stats("2026-03-02", "2026-03-02", staff="li")["total"] == 2
    assert store.stats("2026-03-02", "2026-03-02", staff="li")["unrated"] == 1
    assert store.stats("2026-03-02", "2026-03-02", service="medical")["total"] == 1
    by_window = store.breakdown("window", "2026-03-02", "2026-03-02")
    assert by_window[1]["bad"] == 1 and by_window[2]["satisfied"] == 2
    by_service = store.breakdown("service", "2026-03-02", "2026-03-02")
    assert set(by_service) == {"labor", "medical", None}
    with pytest.raises(RatingError):
        store.breakdown("colour", "2026-03-02", "2026-03-02")
    with pytest.raises(RatingError) as info:
        store.stats("2026-02-30", "2026-03-02")
    assert info.value.field == "from"


def test_list_newest_first_and_bad_only(store):
    store.add(rating("a", 5, at=ts(2026, 3, 2, 9)))
    store.add(rating("b", 1, at=ts(2026, 3, 2, 10)))
    store.add(rating("c", 2, at=ts(2026, 3, 2, 11)))
    assert [r.key for r in store.list("2026-03-02", "2026-03-02")] == ["c", "b", "a"]
    assert [r.key for r in store.list(bad_only=True, newest_first=False)] == ["b", "c"]


# --------------------------------------------------------------- working days

@pytest.mark.parametrize("start, n, expected", [
    (date(2026, 3, 6), 1, date(2026, 3, 9)),      # Friday + 1 -> Monday
    (date(2026, 3, 7), 1, date(2026, 3, 9)),      # from a Saturday
    (date(2026, 3, 2), 5, date(2026, 3, 9)),      # a full week
    (date(2026, 3, 2), 15, date(2026, 3, 23)),    # the default: three weeks
    (date(2026, 3, 2), 0, date(2026, 3, 2)),
    (date(2025, 12, 31), 1, date(2026, 1, 2)),    # New Year's Day is closed
    (date(2026, 2, 13), 1, date(2026, 2, 14)),    # 调休: Saturday the 14th is a working day
    (date(2026, 2, 13), 2, date(2026, 2, 23)),    # Spring Festival 16-20 closed, then the weekend
    (date(2026, 2, 27), 1, date(2026, 2, 28)),    # another 调休 Saturday
    (date(2026, 9, 30), 3, date(2026, 10, 10)),   # National Day: 8th, 9th, and the 调休 Saturday 10th
])
def test_add_working_days(start, n, expected):
    assert add_working_days(start, n, HALL) == expected


def test_add_working_days_needs_working_days():
    closed = Hall(name="x", closed_weekdays=frozenset(range(1, 8)))
    with pytest.raises(ValueError):
        add_working_days(date(2026, 3, 2), 1, closed)
    with pytest.raises(ValueError):
        add_working_days(date(2026, 3, 2), -1, HALL)


# ----------------------------------------------------------------- follow-ups

def test_a_bad_rating_opens_a_follow_up(store, engine):
    due = add_working_days(date(2026, 3, 2), DEFAULT_FOLLOWUP_DAYS, HALL)
    bad, _ = store.add(rating("bad", 1, phone="13800138000"), followup_due=due)
    store.add(rating("good", 5), followup_due=due)  # good and unrated ratings open nothing
    store.add(rating("none", None), followup_due=due)
    store.add(rating("bad-no-due", 2))  # the store opens a case only with a due date (record_rating decides it)
    cases = store.followups(today=date(2026, 3, 2))
    assert len(cases) == 1
    case = cases[0]
    assert case.rating == bad and case.state == "open" and case.due_date == date(2026, 3, 23)
    assert store.followup_for(bad.id).id == case.id
    assert store.followup_ids([bad.id, "nope"]) == {bad.id: case.id}
    store.add(rating("bad", 1), followup_due=due)  # the repeat opens no second case
    assert count(engine, "rating_followups") == 1


def test_record_rating_applies_the_follow_up_rule(store, engine):
    """The one rule (server and embedded evaluator): a new bad rating opens a case due N working days later."""
    store.set_followup_days(3)
    fri = ts(2026, 2, 27)  # Friday; Sat 2026-02-28 is a 调休 working day, so 3 working days end on Tue 03-03
    bad, created = record_rating(store, HALL, rating("bad", 1, at=fri))
    assert created
    (case,) = store.followups(today=date(2026, 2, 27))
    assert case.rating == bad and case.state == "open" and case.due_date == date(2026, 3, 3)
    for key, level in (("good", 5), ("fair", 3), ("none", None)):
        assert record_rating(store, HALL, rating(key, level, at=fri))[1]
    again, created = record_rating(store, HALL, rating("bad", 2, at=fri))  # a repeated key: nothing new
    assert again == bad and not created
    assert count(engine, "rating_followups") == 1


def test_follow_up_lifecycle_in_order(store):
    bad, _ = store.add(rating("bad", 2), followup_due=date(2026, 3, 23))
    fid = store.followup_for(bad.id).id
    with pytest.raises(RatingError) as info:
        store.call_back(fid, "called", "sup")
    assert info.value.code == "wrong_state"
    with pytest.raises(RatingError) as info:
        store.rectify(fid, "   ", "sup")
    assert info.value.field == "note" and store.followup(fid).state == "open"
    f = store.rectify(fid, "约谈窗口人员，补充材料清单", "sup", at=ts(2026, 3, 5))
    assert (f.state, f.rectified_by, f.rectify_note, f.rectified_at) == ("rectified", "sup", "约谈窗口人员，补充材料清单",
                                                                         ts(2026, 3, 5))
    with pytest.raises(RatingError) as info:
        store.rectify(fid, "again", "sup")
    assert info.value.code == "wrong_state"
    f = store.call_back(fid, "群众表示满意", "boss", satisfied=True)
    assert f.state == "called_back" and f.called_back_by == "boss" and f.callback_satisfied is True
    assert f.rectify_note == "约谈窗口人员，补充材料清单"  # earlier steps kept
    with pytest.raises(RatingError) as info:
        store.call_back(fid, "again", "sup")
    assert info.value.code == "wrong_state"
    with pytest.raises(RatingError) as info:
        store.rectify("0" * 32, "x", "sup")
    assert info.value.code == "not_found"


def test_follow_up_filters_and_overdue(store):
    a, _ = store.add(rating("a", 1), followup_due=date(2026, 3, 10))
    b, _ = store.add(rating("b", 1), followup_due=date(2026, 3, 20))
    c, _ = store.add(rating("c", 2), followup_due=date(2026, 3, 5))
    fc = store.followup_for(c.id).id
    store.rectify(fc, "done", "sup")
    store.call_back(fc, "ok", "sup")
    today = date(2026, 3, 11)
    overdue = store.followups(overdue=True, today=today)
    assert [f.rating.key for f in overdue] == ["a"]  # c is past due but closed
    assert overdue[0].overdue(today) and not overdue[0].overdue(date(2026, 3, 10))  # due day itself is in time
    assert {f.rating.key for f in store.followups(overdue=False, today=today)} == {"b", "c"}
    assert [f.rating.key for f in store.followups(state="called_back")] == ["c"]
    assert [f.rating.key for f in store.followups(state="open", today=today)] == ["a", "b"]  # earliest due first
    with pytest.raises(RatingError) as info:
        store.followups(state="lost")
    assert info.value.field == "state"


def test_follow_up_days_setting(store):
    assert store.followup_days() == DEFAULT_FOLLOWUP_DAYS == 15
    store.set_followup_days(10)
    assert store.followup_days() == 10
    store.set_followup_days(20)
    assert store.followup_days() == 20
    for bad in (0, 91, "5", True):
        with pytest.raises(RatingError):
            store.set_followup_days(bad)
    assert RatingStore(store.engine, "other-hall").followup_days() == 15
