"""An in-memory ID-card reader for the UI and the dispenser tests (the protocol fake on a pty is in
tests/idcard_fakes.py)."""

from __future__ import annotations

import threading

from kiosk.idcard import IdCard, IdCardError


class FakeIdReader:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._card: IdCard | None = None
        self._read = False
        self.failure: str | None = None  # an IdCardError code the next reads raise (e.g. "unplugged")
        self.reads = 0

    def put(self, card: IdCard) -> None:
        with self._lock:
            self._card, self._read = card, False

    def take_away(self) -> None:
        with self._lock:
            self._card, self._read = None, False

    def read(self) -> IdCard | None:
        with self._lock:
            self.reads += 1
            if self.failure:
                raise IdCardError(f"fake reader: {self.failure}", self.failure)
            if self._card is None or self._read:
                return None  # like a real reader: a card already read answers "no card" until it leaves
            self._read = True
            return self._card

    def close(self) -> None:
        pass
