"""One hall model (kiosk/hall_model.py) for the hall file, a hall pulled from the server and the
admin API: the same rules give the same words everywhere, and errors stay one line each."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from kiosk.configfile import ConfigInvalid
from kiosk.hall_file import hall_from_dict, load_hall
from kiosk.hall_model import ServiceFields, WindowSpec
from kiosk.paths import SAMPLE_HALL
from kiosk.wire.hallcodec import hall_to_dict
from server.models import ServiceIn, WindowIn

HALL = SAMPLE_HALL.read_text(encoding="utf-8")


def load_text(tmp_path, text):
    path = tmp_path / "hall.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigInvalid) as info:
        load_hall(path)
    return path, info.value.errors


def test_the_api_models_derive_from_the_hall_model():
    assert issubclass(ServiceIn, ServiceFields) and issubclass(WindowIn, WindowSpec)


@pytest.mark.parametrize("field, value", [("hours", "25:00-26:00"), ("prefix", "a1"), ("code", "Labor")])
def test_the_file_and_the_api_refuse_with_the_same_words(tmp_path, field, value):
    good = {"code": "late", "name": "晚间", "prefix": "Q", "hours": ""}
    with pytest.raises(ValidationError) as api:
        ServiceIn.model_validate({**good, field: value})
    (api_error,) = api.value.errors()
    api_message = str(api_error["ctx"]["error"])
    old = {"hours": 'hours = "08:30-12:00"', "prefix": 'prefix = "A"', "code": 'code = "labor"'}[field]
    _, errors = load_text(tmp_path, HALL.replace(old, f'{field} = "{value}"', 1))
    assert errors[0].message == api_message and errors[0].field.endswith(f".{field}")


def test_a_pulled_hall_is_checked_like_a_file():
    hall = load_hall(SAMPLE_HALL)
    assert hall_from_dict(hall_to_dict(hall)) == hall
    data = hall_to_dict(hall)
    data["services"][1]["prefix"] = data["services"][0]["prefix"]
    with pytest.raises(ConfigInvalid) as info:
        hall_from_dict(data, "<hall from server>")
    (error,) = info.value.errors
    assert str(error).startswith("<hall from server>:1: services[1].prefix: duplicate prefix")


def test_several_cross_field_errors_get_a_line_each(tmp_path):
    text = HALL.replace('prefix = "B"', 'prefix = "A"').replace('services = ["family"]', 'services = ["family", "fishing"]')
    path, errors = load_text(tmp_path, text)
    lines = text.splitlines()
    assert sorted(e.field for e in errors) == ["services[1].prefix", "windows[2].services[1]"]
    for e in errors:
        assert "\n" not in str(e) and e.file == str(path)
        key = e.field.rsplit(".", 1)[-1].split("[")[0]
        assert key in lines[e.line - 1]


def test_field_errors_all_come_at_once(tmp_path):
    text = HALL.replace('timezone = "Asia/Shanghai"', 'timezone = "Mars/Base"').replace(
        "daily_cap = 300", 'daily_cap = "300"', 1)
    _, errors = load_text(tmp_path, text)
    assert [(e.field, e.message) for e in errors] == [
        ("hall.timezone", "unknown time zone 'Mars/Base' (e.g. Asia/Shanghai)"),
        ("services[0].daily_cap", "must be an integer, not '300'")]
