"""`kiosk run`: start a full-screen terminal."""

from __future__ import annotations

import sys


def register(sub) -> None:
    p = sub.add_parser("run", help="start a terminal (full screen); no config: dispenser on the sample hall")
    p.add_argument("--config", metavar="FILE",
                   help="terminal file (default: $KIOSK_CONFIG, /etc/hall-kiosk/terminal.toml or "
                        "~/.config/hall-kiosk/terminal.toml if present, else the shipped defaults)")
    p.add_argument("--mode", choices=["dispenser", "evaluator", "inquiry", "combined"],
                   help="override the terminal file's mode")
    p.add_argument("--windowed", action="store_true", help="run in a window, for development")
    p.add_argument("--size", default="", metavar="WxH",
                   help="window size with --windowed, e.g. 1080x1920 for a portrait screen")
    p.set_defaults(func=run)


def run(args) -> int:
    from wiring.cli import CliError
    from kiosk.config import ConfigInvalid, load_terminal, load_terminal_hall
    from kiosk.display import window_size

    from kiosk.config_write import default_terminal_file

    path = args.config
    if path is None and default_terminal_file().exists():
        path = default_terminal_file()  # a terminal configured on site (settings screen, set-pin)

    def load():  # the terminal file and the hall file it names, each read and validated once
        config = load_terminal(path)
        return config, load_terminal_hall(config)

    try:  # before the screen, as the store: a bad file found once Kivy is up would exit into a restart loop
        config, hall = load()
    except ConfigInvalid as exc:  # one `file:line: field: message` line per problem
        return _refuse([str(error) for error in exc.errors], load, ConfigInvalid)
    if args.mode:
        config.mode = args.mode
    from kiosk.storage.file_check import UnusableStore, check_terminal_stores

    try:  # before the screen: a broken store would fail only after the first frame, as a crash loop
        check_terminal_stores(config.data_dir)
    except UnusableStore as exc:
        return _refuse([f"kiosk: {exc}"], lambda: check_terminal_stores(config.data_dir), UnusableStore)
    size = None
    if args.size:
        try:
            size = window_size(args.size)
        except ValueError as exc:
            raise CliError(f"--size: {exc}") from None
    from wiring.app import run_app
    from kiosk.display import NoDisplay

    try:
        return run_app(config, hall, windowed=args.windowed, size=size)
    except NoDisplay as exc:
        print(f"kiosk: no usable display ({exc}). Start it on the box's screen: under cage "
              "(deploy/install.sh does), in a desktop session, or with DISPLAY / WAYLAND_DISPLAY set; "
              "SDL_VIDEODRIVER=offscreen runs it headless. / 没有可用的显示器", file=sys.stderr)
        return 1


def _refuse(lines: list[str], check, refusal: type[Exception]) -> int:
    """Why the terminal did not start, one line each on stderr (the journal, under systemd); then exit 1 in a
    shell, or under the kiosk unit the 暂停服务 page with those lines until ``check()`` no longer raises
    ``refusal`` (wiring/out_of_service.py; exit 1 too where the box has no screen to show it on)."""
    from kiosk.display import NoDisplay
    from wiring.out_of_service import under_kiosk_unit, wait_out_of_service

    for line in lines:
        print(line, file=sys.stderr, flush=True)
    if not under_kiosk_unit():
        return 1
    try:
        return wait_out_of_service("\n".join(lines), lambda: _passes(check, refusal))
    except NoDisplay:
        return 1


def _passes(check, refusal: type[Exception]) -> bool:
    """Whether ``check()`` runs without raising ``refusal``."""
    try:
        check()
    except refusal:
        return False
    return True
