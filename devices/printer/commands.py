"""Every ESC/POS byte this project sends or reads, in one place (Epson's command reference names).

The renderer (``escpos.py``) builds jobs from these; the status reader (``realtime.py``) sends
``STATUS_QUERY`` and reads its answer bits. The native QR code (GS ( k) is the sequence python-escpos
sends (``escpos.native_qr``).
"""

from __future__ import annotations

ESC, GS, FS, DLE, EOT, LF = b"\x1b", b"\x1d", b"\x1c", b"\x10", b"\x04", b"\n"

# ------------------------------------------------------------------------------ job
INIT = ESC + b"@"  # ESC @: reset modes (left, not bold, normal size)
CHINESE_MODE_ON = FS + b"&"  # FS &: double-byte (GB18030 / GBK) text on Chinese firmware
SELECT_ALIGN = ESC + b"a"  # + n: 0 left, 1 centre, 2 right
ALIGN = {"left": 0, "center": 1, "right": 2}
SELECT_BOLD = ESC + b"E"  # + 0 / 1
SELECT_SIZE = GS + b"!"  # + (width-1) << 4 | (height-1), each 1-8
FEED_LINES = ESC + b"d"  # + n lines
QR_SYMBOL = GS + b"(k"  # + pL pH, cn 49 ("1"), fn, parameters: one function of the QR symbol
RASTER_IMAGE = GS + b"v0"  # + m xL xH yL yH, then rows of dots (MSB first, 1 = black)
# GS V 65/66 n: feed to the cutter, then cut (full / partial), so the last line is not cut off.
FULL_CUT = GS + b"VA\x00"
PARTIAL_CUT = GS + b"VB\x00"

# ---------------------------------------------------------------- real-time status
# DLE EOT n, answered at once even mid-job: n=1 printer, n=2 offline cause, n=4 paper roll sensor.
# All three go out in one write and the three answer bytes come back in one read.
DLE_EOT = DLE + EOT
STATUS_QUERY = DLE_EOT + b"\x01" + DLE_EOT + b"\x02" + DLE_EOT + b"\x04"
STATUS_ANSWER_LEN = 3
# Every status byte has bits 1 and 4 set and bits 0 and 7 clear; anything else is not a status.
STATUS_FIXED_MASK, STATUS_FIXED_BITS = 0x93, 0x12
ST_OFFLINE = 0x08  # n=1
ST_COVER_OPEN, ST_FEED_BUTTON, ST_PAPER_END_STOP, ST_ERROR = 0x04, 0x08, 0x20, 0x40  # n=2
ST_NEAR_END, ST_PAPER_OUT = 0x0C, 0x60  # n=4 (either bit of each pair)
