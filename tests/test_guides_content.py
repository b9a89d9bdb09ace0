"""Shipped guide content and the errors a broken content folder gets (file, line, field)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from kiosk import paths
from kiosk.configfile import ConfigInvalid
from kiosk.hall_file import load_hall
from kiosk.guides import CASE_TYPES, GuideCatalogue, check_content, load_content

DIBAO = Path("assistance/01-dibao-shenqing.toml")


@pytest.fixture(scope="module")
def hall():
    return load_hall(paths.SAMPLE_HALL)


@pytest.fixture()
def folder(tmp_path) -> Path:
    target = tmp_path / "guides"
    shutil.copytree(paths.SAMPLE_GUIDES, target)
    return target


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def line_with(path: Path, needle: str, after: int = 1) -> int:
    lines = path.read_text(encoding="utf-8").splitlines()
    return [n for n, line in enumerate(lines, 1) if needle in line][after - 1]


def one_error(folder: Path, hall=None):
    errors = check_content(folder, hall)
    assert len(errors) == 1, [str(e) for e in errors]
    return errors[0]


def test_shipped_content_is_valid_and_large_enough(hall):
    assert check_content(paths.SAMPLE_GUIDES, hall) == []
    content = load_content(paths.SAMPLE_GUIDES, hall)
    assert len(content.guides) >= 40
    assert len(content.categories) >= 8
    assert 4 <= len(content.policies) <= 6
    assert {g.case_type for g in content.guides} == set(CASE_TYPES)
    for category in content.categories:
        assert any(g.category == category.code for g in content.guides), category.code
        assert (paths.ASSETS_DIR / "icons" / f"{category.icon}.png").exists(), category.icon
    for guide in content.guides:
        assert guide.materials and guide.steps and guide.legal_basis and guide.keywords, guide.id
        assert hall.window(guide.window) is not None


def test_catalogue_lists(hall):
    catalogue = GuideCatalogue.load(hall=hall)
    assert [g.id for g in catalogue.hot()][:1] == ["dibao-shenqing"]
    assert all(g.category == "assistance" for g in catalogue.guides("assistance"))
    assert catalogue.guide("dibao-shenqing").window == 4
    assert catalogue.guide("nope") is None
    assert catalogue.policy("dibao-biaozhun").body
    assert catalogue.guide_url(catalogue.guide("shebaoka")) == ""  # no address anywhere: no QR
    assert catalogue.guide_url(catalogue.guide("shebaoka"), "http://10.0.0.2:8080/") == "http://10.0.0.2:8080/g/shebaoka"
    assert len(catalogue.version) == 64


def test_broken_toml(folder):
    path = folder / DIBAO
    edit(path, 'case_type = "承诺件"', 'case_type = "承诺件')
    error = one_error(folder)
    assert (error.file, error.line, error.field) == (str(path), line_with(path, "case_type ="), "-")
    assert "TOML" in error.message


def test_unknown_field(folder):
    path = folder / DIBAO
    edit(path, 'fees = "不收费"', 'fees = "不收费"\nfee = "免费"')
    error = one_error(folder)
    assert (error.file, error.line, error.field) == (str(path), line_with(path, "fee = "), "fee")
    assert "unknown field" in error.message


def test_wrong_type(folder):
    path = folder / DIBAO
    edit(path, "window = 4", 'window = "4号"')
    error = one_error(folder)
    assert (error.line, error.field) == (line_with(path, "window = "), "window")
    assert "integer" in error.message


def test_missing_required_field(folder):
    path = folder / DIBAO
    edit(path, 'result = "低保待遇确认，低保金按月发放到“一卡通”账户"\n', "")
    error = one_error(folder)
    assert (error.file, error.field, error.message) == (str(path), "result", "is required")


def test_bad_material_names_its_own_line(folder):
    path = folder / DIBAO
    edit(path, 'form = "原件"\ncount = 1\nnotes = "窗口提供样表', 'form = "原件件"\ncount = 1\nnotes = "窗口提供样表')
    error = one_error(folder)
    assert (error.line, error.field) == (line_with(path, 'form = "原件件"'), "materials[2].form")


def test_duplicate_id(folder):
    copy = folder / "assistance" / "99-copy.toml"
    shutil.copy(folder / DIBAO, copy)
    error = one_error(folder)
    assert error.field == "id" and error.line == 1
    assert "duplicate" in error.message and str(folder / DIBAO) in error.message
    assert error.file in (str(copy), str(folder / DIBAO))


def test_unknown_category(folder):
    path = folder / DIBAO
    edit(path, 'category = "assistance"', 'category = "welfare"')
    error = one_error(folder)
    assert (error.file, error.line, error.field) == (str(path), 3, "category")
    assert "unknown category 'welfare'" in error.message


def test_window_must_serve_the_service(folder, hall):
    path = folder / DIBAO
    edit(path, "window = 4", "window = 2")
    error = one_error(folder, hall)
    assert (error.line, error.field) == (line_with(path, 'service = '), "service")
    assert "window 2 does not serve 'relief'" in error.message


def test_unknown_hot_item(folder):
    path = folder / "catalogue.toml"
    edit(path, '"juzhu-zhengming",', '"juzhu",')
    error = one_error(folder)
    assert (error.file, error.field) == (str(path), "hot[7]")
    assert error.line == line_with(path, "hot = [")


def test_promise_longer_than_the_law(folder):
    edit(folder / DIBAO, 'promised_limit = "20个工作日"', 'promised_limit = "40个工作日"')
    assert one_error(folder).field == "promised_limit"


def test_every_error_at_once(folder):
    edit(folder / DIBAO, "window = 4", 'window = "x"')
    edit(folder / "family" / "01-shengyu-dengji.toml", 'case_type = "即办件"', 'case_type = "当场办"')
    assert sorted(e.field for e in check_content(folder)) == ["case_type", "window"]


def test_missing_folder_and_empty_folder(tmp_path):
    assert one_error(tmp_path / "nowhere").message == "folder not found"
    (tmp_path / "empty").mkdir()
    assert "catalogue.toml" in one_error(tmp_path / "empty").file


def test_invalid_content_is_never_half_loaded(folder):
    edit(folder / DIBAO, "window = 4", "window = 0")
    with pytest.raises(ConfigInvalid) as info:
        GuideCatalogue.load(folder)
    assert info.value.errors[0].field == "window"
