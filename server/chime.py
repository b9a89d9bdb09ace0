"""The call chime: a two-note "ding-dong" made here, so nothing is downloaded."""

from __future__ import annotations

import io
import math
import struct
import wave
from functools import lru_cache

RATE = 22050


def _note(freq: float, seconds: float, volume: float) -> list[float]:
    n = int(RATE * seconds)
    out = []
    for i in range(n):
        t = i / RATE
        envelope = min(1.0, t / 0.01) * math.exp(-3.2 * t)  # soft attack, bell-like decay
        # a bell: fundamental plus quieter partials
        s = (math.sin(2 * math.pi * freq * t) + 0.35 * math.sin(2 * math.pi * 2 * freq * t)
             + 0.15 * math.sin(2 * math.pi * 3 * freq * t))
        out.append(volume * envelope * s / 1.5)
    return out


@lru_cache(maxsize=1)
def chime_wav() -> bytes:
    ding = _note(659.25, 0.9, 0.8)  # E5
    dong = _note(523.25, 1.3, 0.8)  # C5
    samples = ding[: int(RATE * 0.45)] + [0.0] * 0
    mixed = samples + dong
    # let the first note ring under the second
    for i, v in enumerate(ding[int(RATE * 0.45):]):
        mixed[len(samples) + i] += v * 0.6
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(RATE)
        w.writeframes(b"".join(struct.pack("<h", int(max(-1.0, min(1.0, v)) * 32000)) for v in mixed))
    return buf.getvalue()
