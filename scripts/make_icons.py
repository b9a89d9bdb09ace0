"""Render the shipped service pictograms from Noto Color Emoji (SIL OFL 1.1).

Run once by a developer (`apt-get install fonts-noto-color-emoji`); the PNGs are
committed in assets/icons so terminals need no emoji font.
"""

import sys
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

FONT = "/usr/share/fonts/truetype/noto/NotoColorEmoji.ttf"
ICONS = {
    "labor": "👷", "medical": "🏥", "family": "👪", "relief": "🤝", "land": "🌾", "legal": "⚖️",
    "subsidy": "🚜", "planning": "🏗️", "petition": "📮", "household": "🪪", "general": "📋",
    "elderly": "🧓", "disabled": "♿", "veteran": "🎖️", "pregnant": "🤰", "priority": "💚",
    "insurance": "🛡️", "fund": "🏦", "policy": "📜", "search": "🔍", "print": "🖨️", "ticket": "🎫",
    "speak": "🔊", "home": "🏠", "back": "⬅️", "rating": "⭐", "welfare": "🧧", "housing": "🏘️",
    "very_satisfied": "😄", "satisfied": "🙂", "basic": "😐", "unsatisfied": "🙁", "very_unsatisfied": "😠",
    "touch": "👆", "warning": "⚠️", "settings": "⚙️", "id": "🆔", "clock": "🕘",
    "help": "🙋",
}


def main(names: list[str]) -> None:
    """Render the named icons (all of them without names)."""
    out = Path(__file__).resolve().parent.parent / "assets" / "icons"
    out.mkdir(parents=True, exist_ok=True)
    font = ImageFont.truetype(FONT, 109, layout_engine=ImageFont.Layout.BASIC)
    for name, glyph in ICONS.items():
        if names and name not in names:
            continue
        img = Image.new("RGBA", (136, 128), (0, 0, 0, 0))
        ImageDraw.Draw(img).text((0, 0), glyph, font=font, embedded_color=True)
        img = img.crop(img.getbbox())
        side = max(img.size)  # pad to a square so wide glyphs keep their shape
        square = Image.new("RGBA", (side, side), (0, 0, 0, 0))
        square.paste(img, ((side - img.width) // 2, (side - img.height) // 2))
        square.resize((128, 128), Image.LANCZOS).save(out / f"{name}.png")


if __name__ == "__main__":
    main(sys.argv[1:])
