"""The second-generation resident ID card (二代身份证) as the core sees it.

The reader itself lives in ``devices/idcard/``; the core defines what a read
returns (``IdCard``; how a reader behaves is the ``IdCardReader`` port in ``kiosk/ports.py``), how data is
shown (masked) and the keyed hash that is the only form of an ID number that
may be stored or sent anywhere (``person_key``).

Privacy: an ``IdCard`` lives in memory for one swipe. Its ``repr`` hides the
name, ID number, address and photo, so a log line or traceback cannot leak
them.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

# Layout of the 256-byte text block (UCS-2LE, padded with spaces), as the SAM returns it.
TEXT_FIELDS = (("name", 30), ("sex", 2), ("nation", 4), ("birth", 16), ("address", 70),
               ("id_number", 36), ("issuer", 30), ("valid_from", 16), ("valid_to", 16), ("reserved", 36))
TEXT_SIZE = sum(size for _, size in TEXT_FIELDS)  # 256
SEX = {"1": "男", "2": "女", "0": "未知", "9": "未说明"}
_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK = "10X98765432"


class IdCardError(Exception):
    """A read that failed. ``code``: unplugged | no_answer | checksum | garbled | card_error | bad_data."""

    def __init__(self, message: str, code: str):
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class IdCard:
    name: str = field(repr=False)
    sex: str
    nation: str
    birth: date
    address: str = field(repr=False)
    id_number: str = field(repr=False)
    issuer: str = field(repr=False)
    valid_from: str
    valid_to: str
    photo: bytes = field(default=b"", repr=False)

    def age_on(self, day: date) -> int:
        return day.year - self.birth.year - ((day.month, day.day) < (self.birth.month, self.birth.day))

    @property
    def masked_name(self) -> str:
        return mask_name(self.name)

    @property
    def masked_id(self) -> str:
        return mask_id(self.id_number)


def check_digit(first17: str) -> str:
    return _CHECK[sum(int(c) * w for c, w in zip(first17, _WEIGHTS)) % 11]


def valid_id_number(number: str) -> bool:
    return (len(number) == 18 and number[:17].isdigit() and number[17] in "0123456789X"
            and check_digit(number[:17]) == number[17])


def mask_name(name: str) -> str:
    """王小明 -> 王*明, 王明 -> 王*, 欧阳小明 -> 欧**明."""
    if len(name) <= 1:
        return name
    if len(name) == 2:
        return name[0] + "*"
    return name[0] + "*" * (len(name) - 2) + name[-1]


def mask_id(number: str) -> str:
    """330102195001011234 -> 3301**********1234."""
    if len(number) <= 8:
        return "*" * len(number)
    return number[:4] + "*" * (len(number) - 8) + number[-4:]


def parse_text(block: bytes, photo: bytes = b"") -> IdCard:
    """The 256-byte UCS-2LE text block -> IdCard; raises IdCardError('bad_data') when it is no ID card."""
    if len(block) != TEXT_SIZE:
        raise IdCardError(f"text block has {len(block)} bytes, expected {TEXT_SIZE}", "bad_data")
    values, pos = {}, 0
    for name, size in TEXT_FIELDS:
        try:
            values[name] = block[pos:pos + size].decode("utf-16-le").rstrip(" \x00")
        except UnicodeDecodeError:
            raise IdCardError(f"{name}: not UCS-2 text", "bad_data") from None
        pos += size
    number = values["id_number"].upper()
    if not valid_id_number(number):
        raise IdCardError("the ID number on the card is not valid (check digit)", "bad_data")
    raw = values["birth"]
    try:
        birth = date(int(raw[:4]), int(raw[4:6]), int(raw[6:8]))
    except ValueError:
        raise IdCardError(f"birth date {raw!r} is not YYYYMMDD", "bad_data") from None
    if not values["name"]:
        raise IdCardError("the name is empty", "bad_data")
    return IdCard(name=values["name"], sex=SEX.get(values["sex"], values["sex"]), nation=values["nation"],
                  birth=birth, address=values["address"], id_number=number, issuer=values["issuer"],
                  valid_from=values["valid_from"], valid_to=values["valid_to"], photo=photo)


def text_block(name: str, sex: str, nation: str, birth: str, address: str, id_number: str, issuer: str,
               valid_from: str, valid_to: str) -> bytes:
    """The inverse of ``parse_text`` (for fakes and tests): fields padded with spaces, UCS-2LE."""
    values = dict(name=name, sex=sex, nation=nation, birth=birth, address=address, id_number=id_number,
                  issuer=issuer, valid_from=valid_from, valid_to=valid_to, reserved="")
    out = bytearray()
    for key, size in TEXT_FIELDS:
        raw = values[key].encode("utf-16-le")[:size]
        out += raw + " ".encode("utf-16-le") * ((size - len(raw)) // 2)
    return bytes(out)


# ------------------------------------------------------------------ keyed hash
def person_key(secret: bytes | str, id_number: str) -> str:
    """HMAC-SHA256 of the ID number under the hall's secret: the only stored form of an ID number.
    Without the secret the 18-digit space cannot be searched offline for a known hash."""
    key = secret.encode() if isinstance(secret, str) else secret
    if not key:
        raise ValueError("empty hall secret")
    return hmac.new(key, id_number.strip().upper().encode("ascii"), hashlib.sha256).hexdigest()


def new_secret() -> str:
    return secrets.token_hex(32)


def load_or_create_secret(path: Path) -> str:
    """A terminal's own secret (embedded mode): created once, mode 0600."""
    try:
        text = path.read_text().strip()
        if text:
            return text
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    value = new_secret()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(value + "\n")
    return value
