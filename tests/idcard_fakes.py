"""A fake SAM ID-card reader on a real pty pair: it parses the host's frames and answers
byte for byte like a reader.

    with PtyIdReader() as fake:
        fake.put(sample_card())          # a card on the reader
        reader = SerialIdReader(fake.port_name)
        fake.mode = "no_card"            # ... or one of MODES
        fake.unplug()                    # the adapter vanishes
        fake.commands                    # every (cmd, para) the host sent, in order

Modes: normal; pull (the card is pulled during read base data: the reader answers 0x41);
pull_midframe (the answer stops half way); bad_checksum (answers carry a wrong checksum);
garbage (noise before every answer, then the answer); noise (only noise, never a frame);
silent (never answers).
A frame from the host with a bad checksum gets SW3 0x10, as a reader answers it.
"""

from __future__ import annotations

import os
import select
import threading
import tty

from devices.idcard import sam
from kiosk.idcard import check_digit, text_block

MODES = ("normal", "pull", "pull_midframe", "bad_checksum", "garbage", "noise", "silent")
PHOTO = bytes(range(256)) * 4  # 1024 bytes: the encrypted WLT photo block a card carries
NOISE = b"\x00\xff\x13\xAA\xAA\x96\x55\x01"


def id_number(first17: str = "33010219500101123") -> str:
    return first17 + check_digit(first17)


def sample_text(name: str = "王小明", birth: str = "19500101", number: str | None = None) -> bytes:
    number = number or id_number("330102" + birth + "123")
    return text_block(name=name, sex="1", nation="01", birth=birth, address="浙江省杭州市上城区某某路1号",
                      id_number=number, issuer="杭州市公安局上城分局", valid_from="20150101",
                      valid_to="20350101")


class PtyIdReader:
    def __init__(self, mode: str = "normal"):
        if mode not in MODES:
            raise ValueError(f"unknown mode {mode!r}; one of {MODES}")
        self.mode = mode
        self.text: bytes | None = None  # the card on the reader (its 256-byte text block)
        self.already_read = False
        self.commands: list[tuple[int, int]] = []
        self.bad_frames = 0
        self._buf = b""
        self._master, self._slave = os.openpty()
        tty.setraw(self._slave)
        self.port_name = os.ttyname(self._slave)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"PtyIdReader {self.port_name}", daemon=True)
        self._thread.start()

    def put(self, text: bytes | None = None) -> None:
        self.text, self.already_read = (text or sample_text()), False

    def take_away(self) -> None:
        self.text, self.already_read = None, False

    def unplug(self) -> None:
        self._stop.set()
        if self._thread is not threading.current_thread():
            self._thread.join(timeout=2)
        for name in ("_master", "_slave"):
            fd = getattr(self, name)
            if fd is not None:
                setattr(self, name, None)
                try:
                    os.close(fd)
                except OSError:
                    pass

    close = unplug

    def __enter__(self) -> "PtyIdReader":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # ---------------------------------------------------------- reader
    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                ready, _, _ = select.select([self._master], [], [], 0.02)
                if not ready:
                    continue
                self._buf += os.read(self._master, 4096)
            except (OSError, TypeError):
                return
            while True:
                frame = self._next_frame()
                if frame is None:
                    break
                reply = self._reply(frame)
                if reply:
                    try:
                        os.write(self._master, reply)
                    except (OSError, TypeError):
                        return

    def _next_frame(self) -> bytes | None:
        at = self._buf.find(sam.PREAMBLE)
        if at < 0:
            self._buf = self._buf[-4:]
            return None
        rest = self._buf[at + 5:]
        if len(rest) < 2:
            return None
        n = int.from_bytes(rest[:2], "big")
        if len(rest) < 2 + n:
            return None
        self._buf = rest[2 + n:]
        return rest[:2 + n]

    def _reply(self, frame: bytes) -> bytes:
        if self.mode == "silent":
            return b""
        if self.mode == "noise":
            return NOISE * 4
        if len(frame) < 5 or sam.xor(frame[:-1]) != frame[-1]:  # LEN CMD PARA [DATA] CHK
            self.bad_frames += 1
            return self._wrap(sam.answer(0x10))
        cmd, para = frame[2], frame[3]
        self.commands.append((cmd, para))
        return self._wrap(self._answer_for((cmd, para)))

    def _answer_for(self, cmd: tuple[int, int]) -> bytes:
        if cmd == sam.FIND_CARD:
            if self.text is None or self.already_read:
                return sam.answer(sam.NO_CARD)
            return sam.answer(sam.CARD_FOUND, b"\x00" * 4)
        if cmd == sam.SELECT_CARD:
            if self.text is None or self.already_read:
                return sam.answer(sam.SELECT_FAILED)
            return sam.answer(sam.OK, b"\x00" * 8)
        if cmd == sam.READ_BASE:
            if self.text is None:
                return sam.answer(sam.READ_FAILED)
            if self.mode == "pull":
                self.take_away()
                return sam.answer(sam.READ_FAILED)
            data = len(self.text).to_bytes(2, "big") + len(PHOTO).to_bytes(2, "big") + self.text + PHOTO
            reply = sam.answer(sam.OK, data)
            if self.mode == "pull_midframe":
                self.take_away()
                return reply[:len(reply) // 2]
            self.already_read = True
            return reply
        return sam.answer(0x21)  # a command this reader does not know

    def _wrap(self, reply: bytes) -> bytes:
        if self.mode == "bad_checksum":
            return reply[:-1] + bytes((reply[-1] ^ 0x5A,))
        if self.mode == "garbage":
            return NOISE + reply
        return reply
