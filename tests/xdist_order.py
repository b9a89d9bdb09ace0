"""How `pytest -n 2 --dist loadfile` spreads the suite over both cores (hooks imported by tests/conftest.py).

xdist's own loadfile keeps every file whole on one worker (its module-scoped servers start once) and
hands the files out most-tests-first. That leaves the long single-test files (a SIGKILL run, a page
that reconnects) for the end, on one worker, while the other idles. Here:

- a file stays whole, except the files in ``SPLIT_FILES``: their tests share no module-scoped
  fixture, so each test is a unit of its own and both workers can take some (checked at collection:
  such a file with a module-scoped fixture is an error);
- units go out heaviest first (``HEAVY_FIRST``, modules by their measured total time), so the cheap
  ones fill the end and both workers finish together. ``KIOSK_TEST_TIMINGS=FILE`` writes every test's
  time as it ends (tests/conftest.py) to measure them again.

(``--dist loadgroup`` would do the splitting with marks, but xdist 3.8 cannot set a group on
pytest 9's node ids.)
"""

from __future__ import annotations

import pytest

# measured 30 Nov 2026 21:28-21:39 UTC on b8212b8 (KIOSK_TEST_TIMINGS, -n 2, load 6.5-7.7 on 2 cores: 666 s wall,
# 414 s user CPU): every module of 8 s or more, heaviest first (the rest keep collection order at the end).
# Checked on 8cd3a9c (21:50-22:03 UTC, load 8-9: 779 s wall, 412 s user CPU): the workers' last tests ended
# 0.7 s apart; that run's own weights would order a few modules differently for 0.7 s less, no re-sort needed.
HEAVY_FIRST = ["test_layout_audit", "test_county_link", "test_inquiry_ui", "test_server_security",
               "test_server_halls", "test_server_fuzz", "test_server_reports", "test_server_ratings",
               "test_terminal_memory", "test_server_multiproc", "test_server_api", "test_ticket_qr",
               "test_county_browser", "test_settings_ui", "test_backup", "test_server_concurrency",
               "test_server_browser", "test_sync_offline", "test_haochaping", "test_server_appointments",
               "test_page_weight", "test_appointments_sync", "test_x11_display", "test_phone_pages",
               "test_checkin_ui", "test_visitor_session", "test_dispenser_ui", "test_help_button",
               "test_server_sigkill", "test_cage", "test_pages_reconnect", "test_evaluator", "test_stop_signals",
               "test_server_help", "test_sync_events", "test_sync_failover", "test_server_migration",
               "test_webfont_cache", "test_sync_ui", "test_line_breaks", "test_printer_serial", "test_public_links",
               "test_server_cli", "test_help_browser"]
# files whose tests are independent units (no module-scoped fixture but a cheap output folder)
SPLIT_FILES = {"test_layout_audit", "test_county_link", "test_sync_failover", "test_inquiry_ui", "test_dispenser_ui",
               "test_settings_ui", "test_evaluator", "test_checkin_ui", "test_config_write", "test_stop_signals",
               "test_sync_offline", "test_help_button", "test_ticket_qr", "test_backup"}
CHEAP_MODULE_FIXTURES = {"out_dir"}  # test_layout_audit's picture folder: set up on each worker


def _module(nodeid: str) -> str:
    return nodeid.split("::", 1)[0].rsplit("/", 1)[-1].removesuffix(".py")


def check_split_files(items) -> None:
    """A file in SPLIT_FILES must not share a module-scoped fixture between its tests."""
    for item in items:
        if _module(item.nodeid) in SPLIT_FILES:
            shared = sorted(name for name, defs in item._fixtureinfo.name2fixturedefs.items()
                            if defs and defs[-1].scope in ("module", "package", "class")
                            and name not in CHEAP_MODULE_FIXTURES)
            if shared:
                raise pytest.UsageError(f"{item.nodeid}: {_module(item.nodeid)} is in tests/xdist_order.py SPLIT_FILES "
                                        f"but shares module-scoped fixtures {shared}: take it out of SPLIT_FILES")


def order(items) -> None:
    """Heaviest modules first; a module's tests stay together and in their order."""
    rank = {name: i for i, name in enumerate(HEAVY_FIRST)}
    items.sort(key=lambda item: rank.get(_module(item.nodeid), len(rank)))


@pytest.hookimpl(tryfirst=True)
def pytest_xdist_make_scheduler(config, log):
    if config.getvalue("dist") != "loadfile":
        return None
    from xdist.scheduler import LoadScopeScheduling

    class Scheduling(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            if _module(nodeid) in SPLIT_FILES:
                return nodeid
            return nodeid.split("::", 1)[0]

    config.option.loadscopereorder = False  # keep the collection's order: heaviest first (order())
    return Scheduling(config, log)
