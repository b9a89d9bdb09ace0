"""Read ESC/POS bytes back into lines and commands, so tests check what a printer would do."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Line:
    text: str
    align: int
    bold: bool
    width: int
    height: int


@dataclass
class Decoded:
    lines: list[Line] = field(default_factory=list)
    qr_payloads: list[bytes] = field(default_factory=list)
    qr_module_sizes: list[int] = field(default_factory=list)
    rasters: list[tuple[int, int, bytes]] = field(default_factory=list)  # GS v 0: (bytes per row, rows, dots)
    cuts: list[bytes] = field(default_factory=list)
    commands: list[bytes] = field(default_factory=list)  # every command, in order, e.g. b"\x1b@"

    def text(self) -> str:
        return "\n".join(line.text for line in self.lines)


def decode(data: bytes, encoding: str = "gb18030") -> Decoded:
    """Walk the stream; raise AssertionError on a byte sequence a printer would not understand."""
    out = Decoded()
    align, bold, size = 0, False, 0
    text = bytearray()
    i = 0
    while i < len(data):
        b = data[i]
        if b == 0x0A:
            out.lines.append(Line(text.decode(encoding), align, bold, (size >> 4) + 1, (size & 0x0F) + 1))
            text.clear()
            i += 1
        elif b == 0x1B:  # ESC
            cmd = data[i + 1:i + 2]
            if cmd == b"@":
                align, bold, size, n = 0, False, 0, 2
            elif cmd in (b"a", b"E", b"d"):
                arg = data[i + 2]
                if cmd == b"a":
                    align = arg
                elif cmd == b"E":
                    bold = bool(arg)
                n = 3
            else:
                raise AssertionError(f"unknown ESC command {data[i:i + 3]!r} at {i}")
            out.commands.append(data[i:i + n])
            i += n
        elif b == 0x1C:  # FS
            assert data[i + 1:i + 2] in (b"&", b"."), f"unknown FS command at {i}"
            out.commands.append(data[i:i + 2])
            i += 2
        elif b == 0x1D:  # GS
            cmd = data[i + 1:i + 2]
            if cmd == b"!":
                size = data[i + 2]
                n = 3
            elif cmd == b"V":
                n = 4 if data[i + 2] in (65, 66) else 3
                out.cuts.append(data[i:i + n])
            elif cmd == b"(" and data[i + 2:i + 3] == b"k":
                length = data[i + 3] | data[i + 4] << 8
                body = data[i + 5:i + 5 + length]
                assert len(body) == length, "truncated GS ( k"
                cn, fn = body[0], body[1]
                assert cn == 0x31, "GS ( k for a symbol other than QR"
                if fn == 0x50:  # store: m = '0', then the data
                    out.qr_payloads.append(bytes(body[3:]))
                elif fn == 0x43:
                    out.qr_module_sizes.append(body[2])
                n = 5 + length
            elif cmd == b"v" and data[i + 2:i + 3] == b"0":
                assert data[i + 3] in (0, 48), "GS v 0 in a scaled mode"
                row, rows = data[i + 4] | data[i + 5] << 8, data[i + 6] | data[i + 7] << 8
                dots = data[i + 8:i + 8 + row * rows]
                assert len(dots) == row * rows, "truncated GS v 0"
                out.rasters.append((row, rows, bytes(dots)))
                n = 8 + row * rows
            else:
                raise AssertionError(f"unknown GS command {data[i:i + 3]!r} at {i}")
            out.commands.append(data[i:i + n])
            i += n
        elif b < 0x20:
            raise AssertionError(f"stray control byte {b:#x} at {i}")
        else:
            text.append(b)
            i += 1
    assert not text, f"text without a line feed at the end: {bytes(text)!r}"
    return out
