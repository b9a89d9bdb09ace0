"""Printer profiles: what a receipt printer can do, chosen by name in the terminal file
(``[printer] profile = "generic-80"``), in the manner of python-escpos's capability profiles.

A profile says paper width (and so the columns of Font A), whether there is a cutter, whether the
firmware draws QR codes itself (GS ( k) or needs them as a raster picture, and which Chinese
encoding it takes (GB18030, or GBK on older firmware) and whether it needs FS & first.

Terminal files from before profiles set ``paper_width_mm``, ``encoding``, ``cutter`` and
``chinese_mode`` one by one; ``resolve`` maps such keys onto the profile they match (or onto the
named profile changed by them), so an old file prints exactly as before.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from .textwidth import columns_for

DEFAULT = "generic-80"
LEGACY_KEYS = ("paper_width_mm", "encoding", "cutter", "chinese_mode")


@dataclass(frozen=True)
class PrinterProfile:
    name: str
    description: str
    paper_width_mm: int = 80  # 58 | 80
    cutter: bool = True  # False: a tear-off bar (the job ends with a few blank lines)
    native_qr: bool = True  # GS ( k; False: the QR code is sent as a raster picture (GS v 0)
    encoding: str = "gb18030"  # gb18030 | gbk
    chinese_mode: bool = True  # FS & before double-byte text
    columns: int = field(init=False)  # Font A characters per line (a CJK character takes two)

    def __post_init__(self) -> None:
        object.__setattr__(self, "columns", columns_for(self.paper_width_mm))


def _profiles(*profiles: PrinterProfile) -> dict[str, PrinterProfile]:
    return {p.name: p for p in profiles}


PROFILES = _profiles(
    PrinterProfile("generic-80", "80 毫米，带切刀，GB18030"),
    PrinterProfile("generic-80-gbk", "80 毫米，带切刀，GBK（较旧固件）", encoding="gbk"),
    PrinterProfile("generic-80-tearoff", "80 毫米，无切刀（手撕）", cutter=False),
    PrinterProfile("generic-80-raster-qr", "80 毫米，带切刀，二维码以图片打印",
                   native_qr=False),
    PrinterProfile("generic-58", "58 毫米，无切刀（手撕）", paper_width_mm=58,
                   cutter=False),
    PrinterProfile("generic-58-gbk", "58 毫米，无切刀，GBK", paper_width_mm=58,
                   cutter=False, encoding="gbk"),
    PrinterProfile("generic-58-cutter", "58 毫米，带切刀", paper_width_mm=58),
)


class UnknownProfile(ValueError):
    pass


def profile(name: str) -> PrinterProfile:
    try:
        return PROFILES[name]
    except KeyError:
        raise UnknownProfile(f"unknown printer profile {name!r} (known: {', '.join(PROFILES)})") from None


def resolve(base: PrinterProfile, **changes) -> PrinterProfile:
    """``base`` with some of the old loose keys changed: ``base`` itself when nothing changes, else the
    named profile that has exactly those capabilities, else ``base`` changed by them (named so)."""
    changes = {k: v for k, v in changes.items() if v is not None}
    unknown = set(changes) - set(LEGACY_KEYS)
    if unknown:
        raise TypeError(f"not a profile setting: {', '.join(sorted(unknown))}")
    wanted = {**{k: getattr(base, k) for k in LEGACY_KEYS}, "native_qr": base.native_qr, **changes}
    for candidate in [base, *PROFILES.values()]:
        if all(getattr(candidate, k) == v for k, v in wanted.items()):
            return candidate
    label = ", ".join(f"{k}={v!r}" for k, v in changes.items() if getattr(base, k) != v)
    return replace(base, name=f"{base.name} ({label})", **changes)
