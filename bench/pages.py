"""First-load weight of every server page in real Chromium (every request, bytes on the wire).

Starts a hall server on a temporary database, signs in as an admin, opens each page of
server/pages/ and both phone pages (/q/{token}, /g/{id} in a 390x844 phone context) with the cache
off, and prints ONE JSON line: bytes and request count per page, duplicate requests, the font
slices' sizes, and the baseline the font replaced (the shipped .ttc every page pulled before).
Targets: every page < 400 KB, the phone page < 150 KB, all font slices together < 300 KB.

    .venv/bin/python bench/pages.py
"""

from __future__ import annotations

import json
import re
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))


def main() -> int:
    import requests
    from playwright.sync_api import sync_playwright

    from kiosk import paths
    from tests.page_weight import ARGS, CHROMIUM, cjk_system_fonts, measure_all, no_cjk_fontconfig, warm_fonts
    from tests.test_server_support import PASSWORD, start_server

    folder = Path(tempfile.mkdtemp(prefix="bench-pages-"))
    hall = start_server(f"sqlite:///{folder / 'server.db'}", folder)
    try:
        token = hall.api("POST", "/api/v1/tickets", token="terminal", json={"service": "labor"}).json()["token"]
        warm_fonts(hall.url)  # a first visit after the slices were cut (once per content, then cached)
        with sync_playwright() as p:
            env = no_cjk_fontconfig(folder / "fontconfig")  # Chinese only from the served font
            browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True, env=env)
            try:
                loads = measure_all(browser, hall.url, "boss", PASSWORD, token, "dibao-shenqing")
            finally:
                browser.close()
        css = requests.get(hall.url + "/fonts/hall.css", timeout=60).text
        slices = {f.split("/")[-1].split("-")[0]: len(requests.get(hall.url + f, timeout=30).content)
                  for f in re.findall(r'url\("(/fonts/[^"]+\.woff2)"\)', css)}
    finally:
        hall.stop()
    pages = {path: load.summary() for path, load in loads.items()}
    worst = max(v["bytes"] for v in pages.values())
    out = {
        "bench": "pages",
        "pages": pages,
        "max_page_bytes": worst,
        "phone_page_bytes": pages["/q/{token}"]["bytes"],
        "duplicates": {path: load.duplicates() for path, load in loads.items() if load.duplicates()},
        "font_slices_bytes": slices,
        "font_total_bytes": sum(slices.values()),
        "baseline": {"what": "the shipped WenQuanYi .ttc each page pulled before (Chromium rejects it: OTS)",
                     "font_bytes": paths.FONT_PATH.stat().st_size},
        "targets": {"page_bytes": 400_000, "phone_page_bytes": 150_000, "font_total_bytes": 300_000},
        "met": worst < 400_000 and pages["/q/{token}"]["bytes"] < 150_000 and sum(slices.values()) < 300_000
               and not any(load.duplicates() for load in loads.values()),
        "cjk_system_fonts_seen_by_browser": len(cjk_system_fonts(env)),
    }
    print(json.dumps(out, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
