"""`kiosk admin import-guides`: a checked folder replaces the guides the server hands to terminals."""

from __future__ import annotations

import shutil

from kiosk.paths import SAMPLE_GUIDES

from .test_server_support import kiosk_cli


def test_import_replaces_content_and_a_broken_folder_changes_nothing(tmp_path):
    from kiosk.storage.db import open_engine
    from server import sync_store

    db = f"sqlite:///{tmp_path / 'server.db'}"
    folder = tmp_path / "guides"
    shutil.copytree(SAMPLE_GUIDES, folder)
    guide = next(folder.rglob("*dibao-shenqing.toml"))
    guide.write_text(guide.read_text(encoding="utf-8").replace("最低生活保障申请", "最低生活保障（低保）申请", 1),
                     encoding="utf-8")
    done = kiosk_cli("admin", "import-guides", str(folder), "--db", db)
    assert done.returncode == 0, done.stderr
    assert "imported 49 guides" in done.stdout
    digest, files = sync_store.guide_files(open_engine(db), "qingshi")
    assert any("最低生活保障（低保）申请" in text for text in files.values())

    guide.write_text(guide.read_text(encoding="utf-8").replace('category = "', 'category = "nowhere-', 1),
                     encoding="utf-8")
    refused = kiosk_cli("admin", "import-guides", str(folder), "--db", db)
    assert refused.returncode == 1 and "Traceback" not in refused.stderr
    first = refused.stderr.strip().splitlines()[0]
    assert guide.name in first and "category" in first, first  # file, line and field named
    assert sync_store.guide_files(open_engine(db), "qingshi")[0] == digest  # the good copy stays
