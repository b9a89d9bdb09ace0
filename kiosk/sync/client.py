"""HTTP to the hall server (requests), with the failures sorted the way a terminal acts on them.

- ``Unreachable``: no useful answer (refused, timed out, cut off, 5xx, token
  refused). The terminal goes offline. ``maybe_applied`` says whether the
  request may have reached the server (then an issue is voided later).
- ``BadAnswer``: an answer that is not what the API sends (junk JSON, a
  truncated body, wrong shape). Kept apart so a broken proxy does not look
  like a dead server for content pulls; issuing treats it as unreachable.
- ``Refused``: a 4xx with the API's error body: the request itself is wrong.
"""

from __future__ import annotations

import json
import logging
import threading

import requests

log = logging.getLogger(__name__)


class ServerError(Exception):
    pass


class Unreachable(ServerError):
    token_refused = False

    def __init__(self, message: str, maybe_applied: bool = False):
        super().__init__(message)
        self.maybe_applied = maybe_applied


class BadAnswer(ServerError):
    pass


class Refused(ServerError):
    def __init__(self, status: int, code: str, message: str, field: str | None = None):
        super().__init__(f"HTTP {status} {code}: {message}" + (f" ({field})" if field else ""))
        self.status, self.code, self.message, self.field = status, code, message, field


def _maybe_applied(exc: requests.RequestException) -> bool:
    """False only when the request certainly never reached the server."""
    if isinstance(exc, requests.ConnectTimeout):
        return False
    if isinstance(exc, requests.ConnectionError):
        text = repr(exc)
        return not any(s in text for s in ("NewConnectionError", "Connection refused", "Name or service",
                                           "No route to host", "Network is unreachable"))
    return True


def _reason(exc: requests.RequestException) -> str:
    """A short cause for logs and `kiosk terminal status` (requests' own text runs to several lines)."""
    text = str(exc)
    if isinstance(exc, requests.ConnectTimeout):
        return "no answer (connect timeout)"
    if isinstance(exc, requests.ReadTimeout):
        return "no answer in time (read timeout)"
    if isinstance(exc, requests.exceptions.ChunkedEncodingError) or "IncompleteRead" in text:
        return "answer cut off"
    for needle, reason in (("refused", "connection refused"), ("Name or service", "unknown host"),
                           ("No route to host", "no route to host"), ("unreachable", "network unreachable"),
                           ("RemoteDisconnected", "connection closed by the server"),
                           ("reset by peer", "connection reset"), ("aborted", "connection aborted")):
        if needle in text:
            return reason
    return f"{type(exc).__name__}: {text[:160]}"


class ServerClient:
    """A hall server, one terminal token; a requests session per thread.

    ``url`` may be several addresses of one county server (processes sharing its database, the
    terminal file's ``server.url = [...]``): a request that gets no useful answer from the current
    one is sent to the next at once, and the client stays with whichever answers (``url``). A
    refused token or a 4xx is not a reason to move. Every write the terminals send carries its
    idempotency key, so a request the first address may have applied is safe to send again."""

    def __init__(self, url: str | list[str] | tuple[str, ...], token: str = "", timeout_s: float = 3.0):
        urls = [url] if isinstance(url, str) else list(url)
        self.urls = [u.rstrip("/") for u in urls if u and u.strip()] or [""]
        self._current = 0
        self.token = token
        self.timeout_s = timeout_s
        self._local = threading.local()
        self._url_lock = threading.Lock()

    @property
    def url(self) -> str:
        return self.urls[self._current]

    @url.setter
    def url(self, value: str) -> None:
        self.urls, self._current = [value.rstrip("/")], 0

    def failed(self, url: str) -> None:
        """``url`` did not answer: move to the next address (if it is still the current one)."""
        with self._url_lock:
            if len(self.urls) > 1 and self.urls[self._current] == url:
                self._current = (self._current + 1) % len(self.urls)
                log.warning("hall server %s does not answer; using %s", url, self.urls[self._current])

    @property
    def session(self) -> requests.Session:
        s = getattr(self._local, "session", None)
        if s is None:
            s = self._local.session = requests.Session()
            s.trust_env = False  # a hall LAN: no proxy from the environment between terminal and server
        return s

    def headers(self, extra: dict | None = None) -> dict:
        h = {"Accept": "application/json"}
        if self.token:
            h["Authorization"] = f"Bearer {self.token}"
        if extra:
            h.update(extra)
        return h

    def request(self, method: str, path: str, *, timeout: float | tuple[float, float] | None = None,
                json_body=None, headers: dict | None = None, params: dict | None = None) -> requests.Response:
        """The response for a 2xx or 304; otherwise one of the errors above (after every address)."""
        maybe_applied = False
        for _ in range(len(self.urls)):
            url = self.url
            try:
                return self._request_one(url, method, path, timeout, json_body, headers, params)
            except Unreachable as exc:
                maybe_applied = maybe_applied or exc.maybe_applied
                if exc.token_refused or len(self.urls) == 1:
                    raise
                self.failed(url)
                last = exc
        raise Unreachable(str(last), maybe_applied)

    def _request_one(self, url: str, method: str, path: str, timeout, json_body, headers, params) \
            -> requests.Response:
        t = timeout if timeout is not None else (min(2.0, self.timeout_s), self.timeout_s)
        where = f"{url} " if len(self.urls) > 1 else ""
        try:
            r = self.session.request(method, url + path, json=json_body, headers=self.headers(headers),
                                     params=params, timeout=t)
        except requests.RequestException as exc:
            raise Unreachable(f"{where}{method} {path}: {_reason(exc)}", _maybe_applied(exc)) from None
        if r.status_code >= 500:
            raise Unreachable(f"{where}{method} {path}: HTTP {r.status_code}", maybe_applied=True)
        if r.status_code in (401, 403) and not path.endswith("/enroll"):
            detail = _error_fields(r)[1]
            log.error("the hall server refused this terminal's token (%s): enroll it again", detail)
            refused = Unreachable(f"{method} {path}: HTTP {r.status_code} {detail}")
            refused.token_refused = True  # the same database behind every address: no use moving
            raise refused
        if 400 <= r.status_code < 500:
            code, message, field = _error_fields(r)
            raise Refused(r.status_code, code, message, field)
        return r

    def get_json(self, path: str, **kw):
        return parse_json(self.request("GET", path, **kw))

    def post_json(self, path: str, body, **kw):
        return parse_json(self.request("POST", path, json_body=body, **kw))


def parse_json(r: requests.Response):
    try:
        return json.loads(r.content)
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadAnswer(f"{r.request.method} {r.url}: not JSON ({exc}); starts {r.content[:60]!r}") from None


def _error_fields(r: requests.Response) -> tuple[str, str, str | None]:
    try:
        body = json.loads(r.content)
        return str(body.get("error", "refused")), str(body.get("message", "")), body.get("field")
    except (ValueError, AttributeError):
        return "refused", r.text[:200], None
