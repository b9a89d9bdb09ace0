"""`kiosk guides ...` as a user runs it: exit codes, one line per error, JSON, files."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys

import pytest

from kiosk import paths

from .cli_inproc import run_kiosk

FIELDS = ["id", "name", "category", "case_type", "window", "service", "legal_basis", "conditions",
          "materials", "steps", "legal_limit", "promised_limit", "fees", "result", "contact", "notes",
          "keywords"]
ERROR_LINE = re.compile(r"^.+:\d+: [\w.\[\]-]+: .+$")


def kiosk_process(*args: str, cwd=None) -> subprocess.CompletedProcess:
    """`kiosk guides ARGS`, its own process."""
    code = "import sys; from wiring.cli import main; sys.exit(main())"
    return subprocess.run([sys.executable, "-c", code, "guides", *args], capture_output=True,
                          text=True, timeout=120, cwd=cwd)


def kiosk(*args: str, cwd=None) -> subprocess.CompletedProcess:
    """The same main in this process (tests/cli_inproc.py): no Python start-up per command."""
    return run_kiosk("guides", *args, cwd=cwd)


def test_check_shipped_content():
    result = kiosk_process("check")
    assert result.returncode == 0, result.stderr
    assert "OK" in result.stdout


def test_check_reports_each_error_on_one_line(tmp_path):
    folder = tmp_path / "guides"
    shutil.copytree(paths.SAMPLE_GUIDES, folder)
    broken = folder / "assistance" / "01-dibao-shenqing.toml"
    broken.write_text(broken.read_text(encoding="utf-8").replace("window = 4", 'window = "四"'), encoding="utf-8")
    (folder / "land" / "99-bad.toml").write_text('id = "x"\nname = [\n', encoding="utf-8")
    result = kiosk("check", str(folder))
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 2 and all(ERROR_LINE.match(line) for line in lines), lines
    assert any(line.startswith(f"{broken}:5: window: ") for line in lines)
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("args", [("check", "/no/such/folder"), ("list", "--dir", "/no/such/folder"),
                                  ("render", "nope", "--out", "x.bin")])
def test_bad_input_gets_one_line_and_exit_1(args, tmp_path):
    result = kiosk(*args, cwd=tmp_path)
    assert result.returncode == 1
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr


def test_list_json_has_the_documented_fields():
    result = kiosk("list", "--json")
    assert result.returncode == 0, result.stderr
    guides = json.loads(result.stdout)
    assert len(guides) >= 40
    assert list(guides[0]) == FIELDS
    assert set(guides[0]["materials"][0]) == {"name", "form", "count", "notes"}


def test_search_json_ranks_the_obvious_hit_first():
    result = kiosk("search", "dbsq", "--json", "--limit", "5")
    assert result.returncode == 0, result.stderr
    rows = json.loads(result.stdout)
    assert rows[0]["id"] == "dibao-shenqing" and rows[0]["rank"] == 1
    text = kiosk("search", "养老")
    assert text.stdout.splitlines()[0].startswith(" 1. 养老保险")


def test_render_writes_bytes_and_picture(tmp_path):
    pytest.importorskip("devices.printer.png")
    out, png = tmp_path / "slip.bin", tmp_path / "slip.png"
    result = kiosk("render", "gaoling-jintie", "--out", str(out), "--png", str(png), "--width", "58")
    assert result.returncode == 0, result.stderr
    assert "高龄津贴申领".encode("gb18030") in out.read_bytes()
    assert png.read_bytes().startswith(b"\x89PNG")
