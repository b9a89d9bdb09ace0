"""Shared fixtures. Kivy's environment is set here, before anything imports Kivy."""

from __future__ import annotations

import os
import sys
import tempfile
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo


def _temp_in_memory() -> None:
    """Test files (tmp_path, tempfile) in /dev/shm when it is a tmpfs with room: the suite's SQLite
    files, servers' databases and terminal files stay real files with real locks, but their fsyncs
    cost nothing instead of waiting on a disk shared with other work (a property test's databases:
    9.4 s -> 5.7 s). A process killed with SIGKILL loses nothing either way (the page cache keeps
    its writes); only power loss, which no test makes, would tell them apart. pytest still keeps
    the last three runs' folders (now in memory, about 100 MB each). KIOSK_TEST_TMPFS=0: /tmp."""
    shm = "/dev/shm"
    if os.environ.get("KIOSK_TEST_TMPFS", "1") == "0" or not os.access(shm, os.W_OK):
        return
    try:
        with open("/proc/mounts", encoding="utf-8") as mounts:
            if not any(line.split()[1:3] == [shm, "tmpfs"] for line in mounts):
                return
        room = os.statvfs(shm)
    except (OSError, IndexError):
        return
    if room.f_bavail * room.f_frsize >= 2 << 30:  # a container's 64 MB /dev/shm would fill up
        tempfile.tempdir = shm


_temp_in_memory()
os.environ.setdefault("SDL_VIDEODRIVER", "offscreen")
os.environ.setdefault("KIVY_HOME", tempfile.mkdtemp(prefix="kivy-home-"))
# pytest-xdist (scripts/test.sh runs `-n 2 --dist loadfile`): each worker is its own process with
# its own Kivy home, so two Kivys never write one config.ini. What else a test shares across
# processes must be per test too: tmp_path for files, free_port() for ports, a fresh PostgreSQL
# database per server (tests/test_server_support.py).
XDIST_WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")
if XDIST_WORKER:
    os.environ["KIVY_HOME"] = os.path.join(os.environ["KIVY_HOME"], XDIST_WORKER)
    os.makedirs(os.environ["KIVY_HOME"], exist_ok=True)
# A shell with PYTHONDONTWRITEBYTECODE set would make every Python the tests start (hall servers, CLI runs,
# terminals: hundreds of them) compile this project's modules from source again, 0.2-0.3 s of CPU each.
# Their bytecode goes to a cache outside the checkout instead: nothing is written into the tree, as the
# variable wants. A PYTHONPYCACHEPREFIX the caller chose is kept.
if os.environ.get("PYTHONDONTWRITEBYTECODE") and not os.environ.get("PYTHONPYCACHEPREFIX"):
    del os.environ["PYTHONDONTWRITEBYTECODE"]
    os.environ["PYTHONPYCACHEPREFIX"] = os.path.join(os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"),
                                                     "hall-kiosk", "pycache")
    sys.pycache_prefix, sys.dont_write_bytecode = os.environ["PYTHONPYCACHEPREFIX"], False  # this process too
os.environ.setdefault("KIVY_NO_ARGS", "1")
os.environ.setdefault("KIVY_NO_CONSOLELOG", "1")
os.environ.setdefault("KIVY_NO_FILELOG", "1")
# Cheap argon2 costs for every hash the tests make, here and in the servers they start
# (kiosk/hashing.py); tests/test_hashing.py checks that without it the costs are strong.
os.environ["KIOSK_INSECURE_TEST_HASH"] = "1"

import pytest  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

# A test module that leaves a process running (a server, a multiprocessing child) fails in the
# teardown of its last test (tests/process_guard.py).
from tests.process_guard import pytest_runtest_teardown, pytest_sessionfinish  # noqa: E402,F401
# `-n 2 --dist loadfile`: files whole except independent ones, heaviest first (tests/xdist_order.py)
from tests.xdist_order import check_split_files, order, pytest_xdist_make_scheduler  # noqa: E402,F401
TZ = ZoneInfo("Asia/Shanghai")


def local_ts(*args) -> float:
    """Epoch seconds of a local (Asia/Shanghai) date and time."""
    return datetime(*args, tzinfo=TZ).timestamp()


class FakeClock:
    """A settable clock; starts on a working Monday morning in the sample hall."""

    def __init__(self, ts: float | None = None):
        self.now = ts if ts is not None else local_ts(2026, 11, 23, 9, 0)

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def idle_clock() -> FakeClock:
    """The screens' monotonic clock (idle timeouts): ``harness_factory`` injects it into the App of a
    test that asks for it; tests advance it, so a slow frame on a loaded machine never sends a visitor
    home early."""
    return FakeClock(0.0)


@pytest.fixture
def sample_hall():
    from kiosk.hall_file import load_hall
    from kiosk.paths import SAMPLE_HALL

    return load_hall(SAMPLE_HALL)


@pytest.fixture
def engine(tmp_path, sample_hall, clock):
    from kiosk.queue import QueueEngine
    from kiosk.storage.db import open_engine, sqlite_url
    from kiosk.storage.queue_store import QueueStore

    store = QueueStore(open_engine(sqlite_url(tmp_path / "queue.db")), sample_hall.code)
    return QueueEngine(sample_hall, store, clock=clock)


@pytest.fixture
def terminal_factory(tmp_path, clock):
    """Build terminals on the sample hall with a fake printer and voice."""
    from devices.printer import FakePrinter
    from devices.voice import FakeVoice
    from kiosk.config import load_terminal
    from kiosk.terminal import build_terminal

    made = []

    def make(printer=None, **timeouts):
        config = load_terminal(None)
        config.data_dir = tmp_path / f"data{len(made)}"
        for key, value in timeouts.items():
            setattr(config.timeouts, key, value)
        term = build_terminal(config, printer=printer or FakePrinter(), voice=FakeVoice(), clock=clock)
        made.append(term)
        return term

    yield make
    for term in made:
        term.close()


@pytest.fixture
def harness_factory(request):
    """Attach a terminal's App to the offscreen window; every harness is closed afterwards.
    A test that uses ``idle_clock`` gets it as the screens' clock."""
    from tests.offscreen import Harness

    made = []

    def attach(terminal, size=(1920, 1080), **app_options):
        if "idle_clock" in request.fixturenames:
            app_options.setdefault("monotonic", request.getfixturevalue("idle_clock"))
        # a square drawing surface holds both orientations: Harness.frame reads either back
        h = Harness(terminal, size, surface=(max(size), max(size)), **app_options)
        made.append(h)
        return h

    yield attach
    for h in made:
        h.close()


# ------------------------------------------------------------------ Chromium (Playwright)
# One Playwright driver and one Chromium per test process (per xdist worker), shared by every browser
# test; each test gets fresh contexts (its own cookies, storage, viewport), closed after it.

_shared_browsers: list = []


@pytest.fixture(scope="session")
def _playwright():
    """The Playwright driver (one per test process); its Chromium processes live for the session."""
    from tests.page_weight import CHROMIUM, have_chromium
    from tests.process_guard import allow_process, leftovers

    if not have_chromium():
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"Debian chromium is missing at {CHROMIUM}")
        pytest.skip(f"no {CHROMIUM}")
    from playwright.sync_api import sync_playwright

    before = set(leftovers())
    pw = sync_playwright().start()
    for pid in set(leftovers()) - before:  # the driver: the browsers are its children
        allow_process(pid)
    yield pw
    pw.stop()


def _start_chromium(request, pw, **launch):
    from tests.page_weight import ARGS, CHROMIUM
    from tests.process_guard import allow_process, leftovers

    before = set(leftovers())
    browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True, **launch)
    for pid in set(leftovers()) - before:  # also any helper Chromium moves away from the driver
        allow_process(pid)
    _shared_browsers.append(browser)

    def stop():
        _shared_browsers.remove(browser)
        browser.close()

    request.addfinalizer(stop)
    return browser


@pytest.fixture(scope="session")
def browser(request, _playwright):
    """Debian's Chromium through Playwright, shared by the session's browser tests."""
    return _start_chromium(request, _playwright)


@pytest.fixture(scope="session")
def browser_no_cjk(request, _playwright, tmp_path_factory):
    """A Chromium that sees no CJK system font: Chinese can only come from a page's served HallFont."""
    from tests.page_weight import cjk_system_fonts, no_cjk_fontconfig

    env = no_cjk_fontconfig(tmp_path_factory.mktemp("fontconfig"))
    assert cjk_system_fonts(env) == []
    return _start_chromium(request, _playwright, env=env)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item):
    """Contexts a test opened on a shared browser are closed after it, also when it failed."""
    before = [(b, set(b.contexts)) for b in _shared_browsers]
    try:
        return (yield)
    finally:
        for b, old in before:
            for ctx in b.contexts:
                if ctx not in old:
                    ctx.close()


# `pytest -m "not slow"`: the quick subset a developer runs often. Slow: whatever drives Kivy
# (ui), Chromium (browser) or PostgreSQL (postgres), starts real hall servers (the modules that use
# tests/test_server_support.py), or runs other whole processes, fuzzing or load.
# The CLI files (test_guides_cli, test_config_cli, test_terminal_cli, test_printer_cli) are quick: their
# commands run in the test process (tests/cli_inproc.py), one real `python -m kiosk` each.
SLOW_MODULES = {"test_server_fuzz", "test_server_concurrency", "test_durability", "test_cage", "test_stop_signals",
                "test_display", "test_sync_offline", "test_sync_ui", "test_evaluator_server",
                "test_admin_import_guides",
                "test_page_weight", "test_phone_pages", "test_checkin_ui", "test_server_cli", "test_ordering",
                "test_ticket_qr", "test_public_links", "test_server_security", "test_sync_events"}
SLOW_TESTS = {"test_sigkill_during_writes_leaves_old_or_new_file", "test_codes_are_six_digits_and_unique_per_day",
              "test_stall_with_the_default_write_timeout_still_ends_within_10s"}  # waits the default 5 s


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config, items):
    for item in items:
        module = item.module
        uses_servers = any("test_server_support" in str(getattr(v, "__module__", "")) for v in vars(module).values())
        if (uses_servers or module.__name__.rsplit(".", 1)[-1] in SLOW_MODULES or item.originalname in SLOW_TESTS
                or any(item.get_closest_marker(m) for m in ("ui", "browser", "postgres"))):
            item.add_marker(pytest.mark.slow)
    check_split_files(items)
    order(items)  # heaviest modules first, for both workers to finish together (tests/xdist_order.py)


_timings = os.environ.get("KIOSK_TEST_TIMINGS")


def pytest_runtest_logreport(report):
    """With KIOSK_TEST_TIMINGS=FILE, one line per test phase as it ends (a run cut short still tells)."""
    if _timings and not hasattr(report, "node"):  # written where the test ran, not again by xdist's controller
        import json

        with open(_timings, "a", encoding="utf-8") as out:
            out.write(json.dumps({"test": report.nodeid, "when": report.when, "s": round(report.duration, 3),
                                  "outcome": report.outcome, "worker": XDIST_WORKER or "main",
                                  "end": round(report.stop, 1)}) + "\n")
