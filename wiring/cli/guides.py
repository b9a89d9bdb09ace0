"""`kiosk guides check|list|search|render`: service guide content from the command line."""

from __future__ import annotations

import json
import sys
from pathlib import Path


def register(sub) -> None:
    p = sub.add_parser("guides", help="check, list, search guides; render a notice slip")
    actions = p.add_subparsers(dest="action", metavar="ACTION", required=True)

    check = actions.add_parser("check", help="validate a content folder; one line per error (file:line: field: message)")
    check.add_argument("folder", nargs="?", metavar="DIR", help="default: the shipped sample content")
    check.add_argument("--hall", metavar="FILE", help="hall file for windows and services (default: the sample hall)")
    check.set_defaults(func=check_folder)

    listing = actions.add_parser("list", help="every guide")
    _content_options(listing)
    listing.add_argument("--category", metavar="CODE")
    listing.add_argument("--json", action="store_true", help="full guides as a JSON list")
    listing.set_defaults(func=list_guides)

    search = actions.add_parser("search", help="ranked guides for a query (hanzi, pinyin, initials)")
    search.add_argument("query", metavar="QUERY")
    _content_options(search)
    search.add_argument("--limit", type=int, default=20, metavar="N")
    search.add_argument("--json", action="store_true")
    search.set_defaults(func=search_guides)

    render = actions.add_parser("render", help="write the notice slip (一次性告知单) of a guide")
    render.add_argument("guide_id", metavar="ID")
    _content_options(render)
    render.add_argument("--hall", metavar="FILE", help="hall named on the slip (default: the sample hall)")
    render.add_argument("--out", required=True, metavar="FILE.bin", help="ESC/POS bytes")
    render.add_argument("--png", metavar="FILE.png", help="a picture of the slip")
    render.add_argument("--width", type=int, choices=(58, 80), default=80, help="paper width in mm")
    render.set_defaults(func=render_slip)


def _content_options(p) -> None:
    p.add_argument("--dir", dest="folder", metavar="DIR", help="content folder (default: the shipped sample)")


def _hall(path: str | None):
    from kiosk import paths
    from wiring.cli import CliError
    from kiosk.configfile import ConfigInvalid
    from kiosk.hall_file import load_hall

    try:
        return load_hall(path or paths.SAMPLE_HALL)
    except ConfigInvalid as exc:
        raise CliError(f"hall file is invalid: {exc.errors[0]}") from None


def _catalogue(folder: str | None):
    from wiring.cli import CliError
    from kiosk.config import ConfigInvalid
    from kiosk.guides import GuideCatalogue

    try:
        return GuideCatalogue.load(folder)
    except ConfigInvalid as exc:
        more = f" (and {len(exc.errors) - 1} more; run `kiosk guides check`)" if len(exc.errors) > 1 else ""
        raise CliError(f"{exc.errors[0]}{more}") from None


def check_folder(args) -> int:
    from kiosk import paths
    from kiosk.guides import check_content

    folder = args.folder or str(paths.SAMPLE_GUIDES)
    errors = check_content(folder, _hall(args.hall))
    for error in errors:
        print(error, file=sys.stderr)
    if errors:
        return 1
    print(f"{folder}: OK")
    return 0


def list_guides(args) -> int:
    from wiring.cli import CliError

    catalogue = _catalogue(args.folder)
    if args.category and catalogue.category(args.category) is None:
        codes = ", ".join(c.code for c in catalogue.categories())
        raise CliError(f"unknown category '{args.category}' (known: {codes})")
    guides = catalogue.guides(args.category)
    if args.json:
        print(json.dumps([g.to_dict() for g in guides], ensure_ascii=False, indent=1))
        return 0
    for g in guides:
        print(f"{g.id}\t{g.name}\t{g.category}\t{g.case_type}\t{g.window}号窗口")
    return 0


def search_guides(args) -> int:
    catalogue = _catalogue(args.folder)
    hits = catalogue.search(args.query, limit=max(args.limit, 0))
    if args.json:
        rows = [{"rank": n, "id": h.guide.id, "name": h.guide.name, "category": h.guide.category,
                 "match": h.kind, "score": h.score, "keyword": h.keyword, "span": h.span}
                for n, h in enumerate(hits, 1)]
        print(json.dumps(rows, ensure_ascii=False, indent=1))
        return 0
    if not hits:
        print(f"no guide matches '{args.query}'", file=sys.stderr)
        return 0
    for n, h in enumerate(hits, 1):
        via = f" [{h.keyword}]" if h.keyword else ""
        print(f"{n:>2}. {h.guide.name}{via}\t{h.kind}\t{h.guide.id}")
    return 0


def render_slip(args) -> int:
    from wiring.cli import CliError
    from kiosk.guides import notice_slip

    catalogue = _catalogue(args.folder)
    guide = catalogue.guide(args.guide_id)
    if guide is None:
        near = [h.guide.id for h in catalogue.search(args.guide_id, limit=3)]
        hint = f" (did you mean: {', '.join(near)})" if near else ""
        raise CliError(f"no guide with id '{args.guide_id}'{hint}")
    hall = _hall(args.hall)
    doc = notice_slip(guide, hall, width_mm=args.width, qr_data=catalogue.guide_url(guide, hall.public_url))
    try:  # the printer renderers live in devices/; imported only when a slip is rendered
        from devices.printer.escpos import RenderOptions, render
    except ImportError as exc:
        raise CliError(f"the ESC/POS renderer is not available: {exc}") from None
    data = render(doc, RenderOptions(paper_width_mm=args.width))
    try:
        Path(args.out).write_bytes(data)
        print(f"{args.out}: {len(data)} bytes")
        if args.png:
            from devices.printer.png import save_png

            save_png(doc, args.png, paper_width_mm=args.width)
            print(f"{args.png}: written")
    except OSError as exc:
        raise CliError(f"cannot write: {exc}") from None
    return 0
