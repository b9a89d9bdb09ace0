"""Layout audit of a live screen: what a visitor would see cut, shortened, crowded or faint.

``audit_screen(screen, tag)`` walks the widget tree of a shown screen and
returns findings (one line each; an empty list is a pass):

- ``cut``: a text whose rendered size exceeds its box (clipped lines, spilling
  out of its label, its button or card, or the window);
- ``shortened``: a text Kivy shortened with "…";
- ``break``: a wrapped line that starts with closing punctuation or ends with
  opening punctuation (the Chinese line-breaking rule, 避头尾), e.g. "（可选" / "）";
- ``overlap``: two texts drawn over each other; a text or a box (button, card, panel, header)
  drawn over a box it does not belong to (a date over the header, a page key over the title);
- ``squeezed``: a widget its layout gave a negative height or width (the content needs more
  room than the layout has: something else is pushed over its neighbours);
- ``target``: a touch target under 120 px, or closer than 24 px to the next (px of a 1080p
  screen: on another window they follow the App's scale, the short side / 1080), or one outside a
  scrolling list that reaches out of the window (字号放大 ran off a portrait panel's edge, its
  words still inside);
- ``contrast``: text contrast under the threshold, measured from the rendered
  pixels inside the text's box (the most common colour is the background,
  the most common clearly different colour the ink).

Texts and targets inside a scrolling list are checked where the list shows
them; the rest of the list is reached by scrolling. An overlay that covers the
screen (the timeout warning) hides what is under it.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations, product

from kivy.core.text import Label as CoreLabel
from kivy.core.text.markup import MarkupLabel
from kivy.uix.behaviors import ButtonBehavior
from kivy.uix.label import Label
from kivy.uix.scrollview import ScrollView

from . import theme

MIN_TARGET = theme.TARGET
MIN_GAP = theme.GAP
TOLERANCE = 1.5  # px: rounding in layouts and texture sizes


@dataclass
class Rect:
    x: float
    y: float
    w: float
    h: float

    @property
    def right(self) -> float:
        return self.x + self.w

    @property
    def top(self) -> float:
        return self.y + self.h

    def inside(self, other: "Rect", tol: float = TOLERANCE) -> bool:
        return (self.x >= other.x - tol and self.y >= other.y - tol and self.right <= other.right + tol
                and self.top <= other.top + tol)

    def intersect(self, other: "Rect") -> "Rect | None":
        x, y = max(self.x, other.x), max(self.y, other.y)
        r, t = min(self.right, other.right), min(self.top, other.top)
        return Rect(x, y, r - x, t - y) if r > x and t > y else None

    def distance(self, other: "Rect") -> float:
        dx = max(0.0, max(self.x, other.x) - min(self.right, other.right))
        dy = max(0.0, max(self.y, other.y) - min(self.top, other.top))
        return (dx * dx + dy * dy) ** 0.5


def window_rect(widget) -> Rect:
    x, y = widget.to_window(widget.x, widget.y)
    return Rect(x, y, widget.width, widget.height)


def text_rect(label: Label) -> Rect:
    """Where Kivy draws a label's texture: centred on the widget."""
    cx, cy = label.to_window(*label.center)
    w, h = label.texture_size
    return Rect(cx - w / 2, cy - h / 2, w, h)


def _ancestors(widget, stop):
    w = widget.parent
    while w is not None and w is not stop:
        yield w
        if w.parent is w:  # the Window is its own parent
            return
        w = w.parent


def _shown(widget, screen) -> bool:
    if widget.opacity <= 0.01 or widget.width <= 0.5 or widget.height <= 0.5:
        return False
    return all(a.opacity > 0.01 for a in _ancestors(widget, screen))


def _clip(widget, screen, window: Rect) -> tuple[Rect, bool]:
    """The visible area for a widget: the window, cut by scrolling lists; True if inside a list."""
    clip, scrolled = window, False
    for a in _ancestors(widget, screen):
        if isinstance(a, ScrollView):
            scrolled = True
            clip = clip.intersect(window_rect(a)) or Rect(0, 0, 0, 0)
    return clip, scrolled


def _is_box(widget) -> bool:
    """A drawn box: a button, card, panel or bar."""
    from .widgets import Header, Panel

    return isinstance(widget, (ButtonBehavior, Panel, Header)) or getattr(widget, "audit_box", False)


def _box(widget, screen):
    """The nearest drawn box a text must stay inside: a button, card, panel or bar."""
    from .widgets import Header, Panel

    for a in _ancestors(widget, screen):
        if isinstance(a, (ButtonBehavior, Panel, Header)) or getattr(a, "audit_box", False):
            return a
    return None


def natural_size(label: Label) -> tuple[float, float]:
    """The size the label's text needs at its wrapping width, unshortened and unclipped."""
    core = label._label
    options = dict(core.options)
    uw = label.text_size[0]
    options.update(text_size=(uw, None), shorten=False, max_lines=0)
    options.pop("text", None)
    cls = MarkupLabel if isinstance(core, MarkupLabel) else CoreLabel
    probe = cls(text=core.text, **options)  # what it draws: plain Chinese text is drawn as wrappable markup
    # what ``probe.refresh()`` sizes its texture to, without making the texture: the layout pass
    probe.resolve_font_name()
    w, h = probe.render()
    return (w, h) if w > 1 and h > 1 else (1, 1)


NO_LINE_START = "）)，,。、：:；;！!？?”’》】」』"
NO_LINE_END = "（(“‘《【「『"


def bad_break(label: Label) -> str | None:
    """The punctuation a wrapped line of ``label`` wrongly starts or ends with, if any (call after texture_update)."""
    lines = ["".join(word.text for word in line.words).strip()
             for line in getattr(label._label, "_cached_lines", None) or []]
    for before, after in zip(lines, lines[1:]):
        if after and after[0] in NO_LINE_START:
            return after[0]
        if before and before[-1] in NO_LINE_END:
            return before[-1]
    return None


def _is_shortened(label: Label) -> bool:
    """Whether Kivy shortened the label's text with "…" (call after texture_update)."""
    if not label.shorten:
        return False
    return bool(getattr(label._label, "is_shortened", False))


def _ink_contrast(pixels, rect: Rect, image_h: int) -> float | None:
    """Contrast of the text in ``rect`` of the screen's picture, from its pixels."""
    box = (int(rect.x + 1), int(image_h - rect.top + 1), int(rect.right - 1), int(image_h - rect.y - 1))
    if box[2] - box[0] < 4 or box[3] - box[1] < 4:
        return None
    crop = pixels.crop(box)
    colours = crop.getcolors(maxcolors=crop.width * crop.height + 1)
    if not colours or len(colours) < 2:
        return None
    colours.sort(reverse=True)
    bg = colours[0][1][:3]
    # the ink is a colour on 2 pixels or more (a lone pixel is anti-aliasing), clearly away from the
    # background: at least 0.6 of the farthest such colour's distance; the most common of those
    far = []
    for n, c in colours[1:]:
        if n < 2:
            break  # sorted by count: the rest are lone pixels
        d = _distance(c[:3], bg)
        if d > 0:
            far.append((n, c[:3], d))
    if not far:
        return None
    reach = max(d for _n, _c, d in far)
    ink = max((n, c) for n, c, d in far if d >= 0.6 * reach)[1]
    return theme.contrast(ink, bg)


def _glyph_contrast(picture, label: Label, rect: Rect) -> float | None:
    """Contrast of a label's text measured where its glyphs are solid: the pixels its texture covers
    fully, against the most common colour of its box. The box's most common far colour
    (``_ink_contrast``) misreads small type, whose thin strokes are mostly anti-aliased edges, and a
    full-width line, whose box takes in what is drawn beside the words (a scroll bar)."""
    from PIL import Image

    tex = label.texture
    if tex is None:
        return None
    tw, th = (int(v) for v in tex.size)
    x = int(rect.x)  # where Kivy's Label rule draws it: int(centre - size / 2)
    top = picture.size[1] - (int(rect.y) + th)
    if tw < 4 or th < 4 or x < 0 or top < 0 or x + tw > picture.size[0] or top + th > picture.size[1]:
        return None
    alpha = Image.frombytes("RGBA", (tw, th), bytes(tex.pixels)).getchannel("A")
    crop = picture.crop((x, top, x + tw, top + th))
    colours = crop.getcolors(maxcolors=tw * th + 1)
    bg = max(colours)[1][:3]
    best = None
    # which way up the texture's rows are stored depends on how it was filled: the way whose solid
    # pixels differ from the background is the one the words are drawn in
    for mask in (alpha, alpha.transpose(Image.Transpose.FLIP_TOP_BOTTOM)):
        solid = mask.point(lambda a: 255 if a >= 250 else 0)
        counts = {}
        for c, m in zip(crop.getdata(), solid.getdata()):
            if m:
                counts[c] = counts.get(c, 0) + 1
        if sum(counts.values()) < 8:
            continue
        ink = max(counts, key=counts.get)
        ratio = theme.contrast(ink[:3], bg)
        if best is None or ratio > best:
            best = ratio
    return best


def _distance(a, b) -> float:
    return sum((x - y) ** 2 for x, y in zip(a, b)) ** 0.5


def _name(widget) -> str:
    import re

    text = getattr(widget, "text", "") or getattr(widget, "name", "") or getattr(widget, "code", "")
    text = re.sub(r"\[/?[a-z]+(=[^\]]*)?\]", "", str(text))  # markup tags are not what a visitor reads
    return " ".join(text.split())[:40] or type(widget).__name__


def audit_screen(screen, tag: str = "", picture=None, min_contrast: float = 7.0) -> list[str]:
    """Findings for the screen as it is shown now; ``picture`` is its PIL image (for contrast)."""
    from kivy.app import App
    from kivy.core.window import Window

    window = Rect(0, 0, *Window.size)
    app = App.get_running_app()
    scale = getattr(app, "scale", 1.0) if app is not None else 1.0
    least_target, least_gap = MIN_TARGET * scale, MIN_GAP * scale
    overlay = getattr(screen, "overlay", None)
    top = overlay if overlay is not None and overlay.parent is not None and overlay.opacity > 0 else screen
    findings: list[str] = []
    texts: list[tuple[Label, Rect]] = []
    targets: list[tuple[object, Rect]] = []
    boxes: list[tuple[object, Rect]] = []
    for w in top.walk(restrict=True):
        if (w.height < -0.5 or w.width < -0.5) and all(a.opacity > 0.01 for a in _ancestors(w, screen)):
            findings.append(f"{tag}: '{_name(w)}' in '{_name(w.parent)}': squeezed to {w.width:.0f}x{w.height:.0f}")
        if not _shown(w, screen):
            continue
        clip, scrolled = _clip(w, screen, window)
        if _is_box(w) and not getattr(w, "audit_ignore", False):
            shown = window_rect(w).intersect(clip)
            if shown:
                boxes.append((w, shown))
        if isinstance(w, ButtonBehavior) and not getattr(w, "audit_ignore", False):
            rect = window_rect(w)
            shown = rect.intersect(clip)
            if shown:  # its size is the whole target; its distance to others is what shows
                targets.append((w, rect, shown))
            if not scrolled and not rect.inside(window):  # a list scrolls to it; a footer key must not
                findings.append(f"{tag}: target '{_name(w)}' reaches out of the window")
        if not isinstance(w, Label) or not w.text.strip():
            continue
        if w._trigger_texture.is_triggered or w.texture is None:
            w.texture_update()  # a change Kivy would draw next frame: measure what it will show
        rect = text_rect(w)
        if scrolled and not rect.inside(clip):
            continue  # scrolled out of view, or partly: the visitor scrolls to it
        what = f"{tag}: '{_name(w)}'"
        if _is_shortened(w):
            findings.append(f"{what}: shortened with …")
        if (mark := bad_break(w)) is not None:
            findings.append(f"{what}: break: a line starts or ends with '{mark}'")
        need_w, need_h = natural_size(w)
        avail_w = w.text_size[0] if w.text_size[0] else w.width
        avail_h = w.text_size[1] if w.text_size[1] else w.height
        if need_h > min(avail_h, w.height) + TOLERANCE or need_w > min(avail_w, w.width) + TOLERANCE:
            findings.append(f"{what}: cut: needs {need_w:.0f}x{need_h:.0f}, box {w.width:.0f}x{w.height:.0f}")
        box = _box(w, screen)
        if box is not None and not rect.inside(window_rect(box)):
            findings.append(f"{what}: cut: spills out of its {type(box).__name__} '{_name(box)}'")
        if not rect.inside(clip):
            findings.append(f"{what}: cut: outside the visible area")
        texts.append((w, rect))
        if picture is not None:
            shown = rect.intersect(clip)
            inner = shown.intersect(window_rect(w)) if shown else None
            ratio = _ink_contrast(picture, inner, picture.size[1]) if inner else None
            if ratio is not None and ratio < min_contrast and inner is not None and inner.w >= rect.w - 1 and inner.h >= rect.h - 1:
                ratio = _glyph_contrast(picture, w, rect) or ratio  # small type: measured on its glyphs
            if ratio is not None and ratio < min_contrast:
                findings.append(f"{what}: contrast {ratio:.2f}:1 < {min_contrast}:1")
    for (a, ra), (b, rb) in combinations(texts, 2):
        if _overlap(ra, rb) and not _related(a, b):
            findings.append(f"{tag}: '{_name(a)}' overlaps '{_name(b)}'")
    for (w, rect), (box, rb) in product(texts, boxes):
        if w is not box and _overlap(rect, rb) and not _related(w, box):
            findings.append(f"{tag}: '{_name(w)}' is drawn over {type(box).__name__} '{_name(box)}'")
    for (a, ra), (b, rb) in combinations(boxes, 2):
        if _overlap(ra, rb) and not _related(a, b):
            findings.append(f"{tag}: {type(a).__name__} '{_name(a)}' overlaps {type(b).__name__} '{_name(b)}'")
    for i, (a, full, ra) in enumerate(targets):
        if full.w < least_target - 0.5 or full.h < least_target - 0.5:
            findings.append(f"{tag}: target '{_name(a)}' is {full.w:.0f}x{full.h:.0f} (< {least_target:.0f})")
        for b, _full, rb in targets[i + 1:]:
            if _related(a, b):
                continue
            gap = ra.distance(rb)
            if gap < least_gap - 0.5:
                findings.append(f"{tag}: targets '{_name(a)}' and '{_name(b)}' {gap:.0f} px apart (< {least_gap:.0f})")
    return findings


def _overlap(a: "Rect", b: "Rect") -> bool:
    """Whether two rectangles share more than ``TOLERANCE`` pixels each way."""
    both = a.intersect(b)
    return bool(both) and both.w > TOLERANCE and both.h > TOLERANCE


def _related(a, b) -> bool:
    return any(x is b for x in _ancestors(a, None)) or any(x is a for x in _ancestors(b, None))


def picture_of(screen):
    """The screen as drawn (PIL RGB image; the texture's first row is the top)."""
    from PIL import Image

    img = screen.export_as_image()
    tex = img.texture
    return Image.frombytes("RGBA", tex.size, bytes(tex.pixels)).convert("RGB")
