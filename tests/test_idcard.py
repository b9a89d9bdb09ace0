"""The ID-card reader: SAM frames, the serial reader against a pty fake that answers like a
reader, masking, the keyed hash, and `kiosk idcard read` as an installer runs it."""

from __future__ import annotations

import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from devices.idcard import sam
from devices.idcard.fake import FakeIdReader
from devices.idcard.serial_reader import SerialIdReader
from kiosk.idcard import (IdCardError, load_or_create_secret, mask_id, mask_name, parse_text, person_key,
                          valid_id_number)

from .cli_inproc import run_kiosk
from .idcard_fakes import PHOTO, PtyIdReader, id_number, sample_text

ROOT = Path(__file__).resolve().parent.parent


def kiosk_process(*args: str) -> subprocess.CompletedProcess:
    """The installed command, its own process."""
    return subprocess.run([sys.executable, "-m", "kiosk", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=60)


kiosk = run_kiosk  # the same main in this process (tests/cli_inproc.py): no Python start-up per read


# ------------------------------------------------------------------ frames
def test_commands_match_the_published_frames():
    assert sam.command(*sam.FIND_CARD) == bytes.fromhex("AAAAAA9669 0003 2001 22")
    assert sam.command(*sam.SELECT_CARD) == bytes.fromhex("AAAAAA9669 0003 2002 21")
    assert sam.command(*sam.READ_BASE) == bytes.fromhex("AAAAAA9669 0003 3001 32")
    assert sam.answer(sam.CARD_FOUND, b"\0" * 4) == bytes.fromhex("AAAAAA9669 0008 00009F 00000000 97")


def test_split_frame_checks_length_and_checksum():
    frame = sam.answer(sam.OK, b"\x01\x02")[5:]
    assert sam.split_frame(frame) == (sam.OK, b"\x01\x02")
    with pytest.raises(sam.FrameError) as bad:
        sam.split_frame(frame[:-1] + bytes((frame[-1] ^ 1,)))
    assert bad.value.kind == "checksum"
    with pytest.raises(sam.FrameError):
        sam.split_frame(frame[:-2])


def test_text_block_parses_and_rejects_a_bad_check_digit():
    card = parse_text(sample_text("王小明", "19500101", id_number("33010219500101123")), PHOTO)
    assert (card.name, card.sex, card.birth, card.photo) == ("王小明", "男", date(1950, 1, 1), PHOTO)
    assert card.age_on(date(2026, 1, 1)) == 76 and card.age_on(date(2025, 12, 31)) == 75
    later = parse_text(sample_text(birth="19600701"))
    assert later.age_on(date(2025, 6, 30)) == 64 and later.age_on(date(2025, 7, 1)) == 65
    wrong = id_number("33010219500101123")[:-1] + ("0" if id_number("33010219500101123")[-1] != "0" else "1")
    with pytest.raises(IdCardError) as exc:
        parse_text(sample_text(number=wrong))
    assert exc.value.code == "bad_data"


def test_masks_and_repr_hide_the_person():
    assert mask_name("王小明") == "王*明" and mask_name("王明") == "王*" and mask_name("欧阳小明") == "欧**明"
    assert mask_id("330102195001011234") == "3301**********1234"
    number = id_number()
    card = parse_text(sample_text(number=number))
    assert number not in repr(card) and "王小明" not in repr(card) and "杭州" not in repr(card)


def test_person_key_is_keyed(tmp_path):
    number = id_number()
    assert valid_id_number(number)
    a, b = person_key("hall-a", number), person_key("hall-b", number)
    assert a != b and len(a) == 64 and number not in a
    assert person_key("hall-a", number.lower()) == a
    secret = load_or_create_secret(tmp_path / "s" / "idcard.key")
    assert load_or_create_secret(tmp_path / "s" / "idcard.key") == secret
    assert (tmp_path / "s" / "idcard.key").stat().st_mode & 0o777 == 0o600


# ------------------------------------------------------------------ the reader on a pty
@pytest.fixture
def fake():
    with PtyIdReader() as f:
        yield f


@pytest.fixture
def reader(fake):
    r = SerialIdReader(fake.port_name, timeout_s=0.5)
    yield r
    r.close()


def test_good_card_then_no_card_until_it_is_put_back(fake, reader):
    assert reader.read() is None
    assert fake.commands == [sam.FIND_CARD]
    fake.put(sample_text("李四", "19600315", id_number("33010219600315001")))
    card = reader.read()
    assert card.name == "李四" and card.id_number == id_number("33010219600315001") and card.photo == PHOTO
    assert fake.commands[1:] == [sam.FIND_CARD, sam.SELECT_CARD, sam.READ_BASE]
    assert reader.read() is None  # read already: a reader says "no card" until it is taken away
    fake.take_away()
    fake.put()
    assert reader.read().name == "王小明"


def test_card_pulled_during_read(fake, reader):
    fake.put()
    fake.mode = "pull"
    with pytest.raises(IdCardError) as exc:
        reader.read()
    assert exc.value.code == "card_error" and "读卡失败" in str(exc.value)
    fake.mode = "normal"
    assert reader.read() is None  # the card is gone; the reader still works
    fake.put()
    assert reader.read().name == "王小明"


def test_answer_cut_off_mid_frame(fake, reader):
    fake.put()
    fake.mode = "pull_midframe"
    with pytest.raises(IdCardError) as exc:
        reader.read()
    assert exc.value.code == "no_answer" and "stopped after" in str(exc.value)
    fake.mode = "normal"
    fake.put()
    assert reader.read().name == "王小明"  # the half frame left behind does not confuse the next read


def test_bad_checksum_from_the_reader_is_asked_again_then_reported(fake, reader):
    fake.put()
    fake.mode = "bad_checksum"
    with pytest.raises(IdCardError) as exc:
        reader.read()
    assert exc.value.code == "checksum"
    assert fake.commands == [sam.FIND_CARD, sam.FIND_CARD]  # one retry, then the error
    fake.mode = "normal"
    assert reader.read().name == "王小明"


def test_reader_answers_0x10_to_a_damaged_command(fake):
    import serial

    with serial.Serial(fake.port_name, 115200, timeout=1) as port:
        bad = sam.command(*sam.FIND_CARD)[:-1] + b"\x00"
        port.write(bad)
        reply = port.read(11)
    assert reply == sam.answer(0x10) and fake.bad_frames == 1


def test_garbage_before_frames_is_skipped(fake, reader):
    fake.put()
    fake.mode = "garbage"
    assert reader.read().name == "王小明"


@pytest.mark.parametrize("mode, code", [("noise", "garbled"), ("silent", "no_answer")])
def test_noise_or_silence_is_reported(fake, reader, mode, code):
    fake.mode = mode
    with pytest.raises(IdCardError) as exc:
        reader.read()
    assert exc.value.code == code


def test_unplugged_reader_is_reported_and_a_new_one_is_picked_up(fake, reader):
    fake.put()
    fake.unplug()
    for _ in range(2):
        with pytest.raises(IdCardError) as exc:
            reader.read()
        assert exc.value.code == "unplugged"
    with PtyIdReader() as again:  # plugged back in (a new device path for the test)
        reader.port_name = again.port_name
        again.put()
        assert reader.read().name == "王小明"


def test_in_memory_fake_behaves_like_the_reader():
    r = FakeIdReader()
    assert r.read() is None
    r.put(parse_text(sample_text()))
    assert r.read().name == "王小明" and r.read() is None
    r.failure = "unplugged"
    with pytest.raises(IdCardError):
        r.read()


# ------------------------------------------------------------------ CLI
def test_cli_prints_masked_data(fake):
    number = id_number("33010219500101123")
    fake.put(sample_text("王小明", "19500101", number))
    result = kiosk_process("idcard", "read", "--port", fake.port_name)
    assert result.returncode == 0, result.stderr
    age = parse_text(sample_text("王小明", "19500101", number)).age_on(date.today())
    assert "王*明" in result.stdout and "3301**********" + number[-4:] in result.stdout
    assert f"年龄 {age}" in result.stdout
    assert number not in result.stdout + result.stderr and "王小明" not in result.stdout


@pytest.mark.parametrize("mode, words", [("normal", "no card"), ("silent", "does not answer"),
                                         ("noise", "without a frame"), ("pull", "读卡失败")])
def test_cli_names_the_problem(fake, mode, words):
    if mode == "pull":
        fake.put()
    fake.mode = mode
    result = kiosk("idcard", "read", "--port", fake.port_name)
    assert result.returncode == 1
    assert words in result.stderr and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_cli_bad_options_and_missing_port(tmp_path):
    assert "missing --port" in kiosk("idcard", "read").stderr
    assert "--baud 1234" in kiosk("idcard", "read", "--port", "/dev/null", "--baud", "1234").stderr
    gone = kiosk("idcard", "read", "--port", str(tmp_path / "ttyUSB9"))
    assert gone.returncode == 1 and "does not exist" in gone.stderr
