"""Speech for visitors (the core's ``kiosk.ports.Voice``): espeak-ng's Mandarin voice where it is
installed, else silence."""

from __future__ import annotations

import logging
import shutil
import subprocess

from kiosk.ports import Voice

log = logging.getLogger(__name__)


class NullVoice:
    available = False
    speaking = False

    def say(self, text: str) -> None:
        pass

    def stop(self) -> None:
        pass


class FakeVoice:
    available = True

    def __init__(self) -> None:
        self.spoken: list[str] = []
        self.speaking = False  # tests set it to stand for a long reading

    def say(self, text: str) -> None:
        self.spoken.append(text)

    def stop(self) -> None:
        self.spoken.append("<stop>")


class EspeakVoice:
    available = True

    def __init__(self, executable: str, volume: int = 80):
        self.executable = executable
        self.amplitude = max(0, min(200, volume * 2))  # espeak-ng -a runs 0-200
        self._current: subprocess.Popen | None = None

    @property
    def speaking(self) -> bool:
        return self._current is not None and self._current.poll() is None

    def stop(self) -> None:
        """Cut off what is being read, e.g. when the visitor leaves the page."""
        if self._current and self._current.poll() is None:
            self._current.terminate()

    def say(self, text: str) -> None:
        self.stop()
        try:
            self._current = subprocess.Popen(
                [self.executable, "-v", "cmn", "-s", "150", "-a", str(self.amplitude), text],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        except OSError as exc:
            log.warning("speech failed: %s", exc)


def open_voice(enabled: bool = True, volume: int = 80) -> Voice:
    executable = shutil.which("espeak-ng") if enabled else None
    return EspeakVoice(executable, volume) if executable else NullVoice()
