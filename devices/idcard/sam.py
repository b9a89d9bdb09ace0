"""Frames of the public-security SAM module protocol (GA 467 readers, e.g. the SAM_V inside
most desk and kiosk ID-card readers).

    host -> reader:  AA AA AA 96 69 | LEN1 LEN2 | CMD PARA [DATA] | CHK
    reader -> host:  AA AA AA 96 69 | LEN1 LEN2 | SW1 SW2 SW3 [DATA] | CHK

LEN (big endian) counts everything after itself, the checksum included. CHK is the XOR
of every byte between the preamble and the checksum (LEN1 through DATA). SW3 says what
happened: 0x90 done, 0x9F card found, 0x80 no card, 0x81 select failed, 0x41 read
failed, 0x10 the reader got a bad checksum, ... (``STATUS``).
"""

from __future__ import annotations

import functools
import operator

PREAMBLE = b"\xAA\xAA\xAA\x96\x69"
FIND_CARD = (0x20, 0x01)
SELECT_CARD = (0x20, 0x02)
READ_BASE = (0x30, 0x01)
GET_SAM_ID = (0x12, 0xFF)
MAX_LEN = 0x0A00  # base data is 0x0508; anything far bigger is a garbled length

OK = 0x90
CARD_FOUND = 0x9F
NO_CARD = 0x80
SELECT_FAILED = 0x81
READ_FAILED = 0x41
STATUS = {
    0x90: "成功 / done", 0x91: "卡中无此内容 / no such content", 0x9F: "找到卡 / card found",
    0x10: "读卡器收到的校验和错 / the reader got a bad checksum",
    0x11: "读卡器收到的长度错 / the reader got a bad length",
    0x21: "命令错误 / bad command", 0x23: "越权操作 / not allowed", 0x24: "无法识别的错误 / unknown error",
    0x80: "找卡失败（无卡） / no card", 0x81: "选卡失败 / select failed",
    0x31: "卡认证SAM失败 / card rejected the SAM", 0x32: "SAM认证卡失败 / SAM rejected the card",
    0x33: "信息验证错误 / data check failed", 0x3F: "信息长度错误 / data length error",
    0x40: "无法识别的卡类型 / unknown card type", 0x41: "读卡失败 / read failed",
    0x47: "取随机数失败 / random number failed", 0x60: "SAM自检失败 / SAM self-test failed",
    0x66: "SAM未授权 / SAM not authorised",
}


def xor(data: bytes) -> int:
    return functools.reduce(operator.xor, data, 0)


def command(cmd: int, para: int, data: bytes = b"") -> bytes:
    body = bytes((cmd, para)) + data
    length = (len(body) + 1).to_bytes(2, "big")
    return PREAMBLE + length + body + bytes((xor(length + body),))


def answer(sw3: int, data: bytes = b"", sw1: int = 0, sw2: int = 0) -> bytes:
    """A reader's reply (for fakes)."""
    body = bytes((sw1, sw2, sw3)) + data
    length = (len(body) + 1).to_bytes(2, "big")
    return PREAMBLE + length + body + bytes((xor(length + body),))


class FrameError(Exception):
    """Bytes that are not a well-formed frame: ``kind`` is checksum | length | short."""

    def __init__(self, message: str, kind: str):
        super().__init__(message)
        self.kind = kind


def split_frame(length_and_rest: bytes) -> tuple[int, bytes]:
    """LEN1 LEN2 + body + CHK (everything after the preamble) -> (SW3, data). Checks the checksum."""
    if len(length_and_rest) < 2:
        raise FrameError("frame ends before its length", "short")
    n = int.from_bytes(length_and_rest[:2], "big")
    frame = length_and_rest[2:]
    if len(frame) != n:
        raise FrameError(f"frame says {n} bytes, has {len(frame)}", "short")
    if n < 4:
        raise FrameError(f"frame length {n} is too short for a status", "length")
    if xor(length_and_rest[:-1]) != frame[-1]:
        raise FrameError("checksum does not match", "checksum")
    return frame[2], frame[3:-1]


def status_text(sw3: int) -> str:
    return STATUS.get(sw3, f"status 0x{sw3:02X}")
