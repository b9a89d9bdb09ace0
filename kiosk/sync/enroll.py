"""Enrollment: trade a one-time code from the hall server for this terminal's own token.

The server URL, the token and the offline series letter go into the terminal
file in one atomic write (``apply_settings``: checked, logged with the token
masked); the file is made readable by its owner only, as it holds the token.
"""

from __future__ import annotations

import logging
import os
import re
from dataclasses import dataclass
from pathlib import Path

from kiosk.config import TerminalConfig

from .client import BadAnswer, Refused, ServerClient, Unreachable, parse_json

log = logging.getLogger(__name__)


class EnrollError(Exception):
    """Enrollment failed; the message is one line for the person at the terminal."""


@dataclass(frozen=True)
class Enrolled:
    terminal_id: str
    series: str
    path: Path
    server_url: str


def enroll(server_url: str, code: str, config: TerminalConfig, path: Path | None = None,
           timeout_s: float = 10.0) -> Enrolled:
    from kiosk.config import ConfigInvalid
    from kiosk.config_write import apply_settings, default_terminal_file, ensure_terminal_file

    url = (server_url or "").strip().rstrip("/")
    if not re.match(r"^https?://[^\s/]+", url):
        raise EnrollError(f"'{server_url}' is not a hall server address (http://HOST:PORT) / 服务器地址无效")
    code = (code or "").strip()
    if not code:
        raise EnrollError("no enrollment code / 请输入注册码")
    client = ServerClient(url, "", timeout_s)
    try:
        request = {"code": code, "name": config.name, "mode": config.mode}
        if config.mode == "evaluator" and config.window:
            request["window"] = config.window  # its token then rates for this window only
        body = parse_json(client.request("POST", "/api/v1/terminals/enroll", json_body=request))
        token, terminal_id = str(body["token"]), str(body["terminal_id"])
        # a code made for a name gives the terminal that name: the file follows the server
        name = str(body.get("name") or config.name)
    except Refused as exc:
        raise EnrollError(f"the server refused the code: {exc.message or exc} / 注册码无效或已使用") from None
    except Unreachable as exc:
        raise EnrollError(f"cannot reach the hall server at {url}: {exc} / 无法连接服务器") from None
    except (BadAnswer, KeyError, TypeError) as exc:
        raise EnrollError(f"{url} does not answer like a hall server ({exc})") from None
    client.token = token
    series = ""
    try:
        info = parse_json(client.request("GET", "/api/v1/sync/terminal", params={"mode": config.mode}))
        series = str(info.get("series") or "")
    except Refused as exc:  # e.g. no free series letter: online issuing still works
        log.error("enrolled, but no offline series: %s", exc.message or exc)
    except (Unreachable, BadAnswer, AttributeError) as exc:
        log.error("enrolled, but could not ask for the offline series: %s", exc)
    _save_hall(client, Path(config.data_dir))
    target = Path(path or config.source or default_terminal_file())
    try:
        ensure_terminal_file(target)
        os.chmod(target, 0o600)  # it is about to hold the token
        changes = {"server.url": url, "server.token": token, "server.series": series}
        if url in config.server_urls:  # one of the listed addresses of this server: the list stays
            del changes["server.url"]
        if name != config.name:
            changes["terminal.name"] = name
        apply_settings(target, changes, log_dir=Path(config.data_dir) / "logs")
    except ConfigInvalid as exc:
        raise EnrollError(f"enrolled, but the terminal file was not written: {exc.errors[0]}") from None
    except OSError as exc:
        raise EnrollError(f"enrolled, but cannot write {exc.filename or target}: {exc.strerror or exc}") from None
    if name != config.name:
        log.info("the enrollment code names this terminal '%s' (was '%s'): terminal file updated", name, config.name)
    config.server_url, config.server_token, config.server_series = url, token, series
    if url not in config.server_urls:
        config.server_urls = ()
    config.name = name
    log.info("enrolled as %s at %s (offline series %s)", terminal_id, url, series or "none")
    return Enrolled(terminal_id, series, target, url)


def _save_hall(client: ServerClient, data_dir: Path) -> None:
    """Keep the server's hall now, so a terminal that starts while the server is away still has it."""
    from kiosk.configfile import ConfigInvalid
    from kiosk.hall_file import hall_from_dict

    from .content import save_copy

    try:
        r = client.request("GET", "/api/v1/sync/hall")
        body = parse_json(r)
        hall_from_dict(body["hall"], "<hall from server>")
        save_copy(data_dir / "sync", "hall.json", {"etag": (r.headers.get("ETag") or "").strip('"'),
                                                   "hall": body["hall"]})
    except (Unreachable, BadAnswer, Refused, ConfigInvalid, KeyError, TypeError, OSError) as exc:
        log.warning("enrolled, but the hall was not saved now (it is pulled at start): %s", exc)
