"""Server-sent events: calls and queue changes, as they happen.

Anonymous clients (the hall TV) get numbers, services and windows only (no
green-channel group);
terminals and staff get whole tickets. ``Last-Event-ID`` replays what a
reconnecting client missed, while it is still in the server's short history.
"""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Depends, Header, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import StreamingResponse

from .halls import hall_runtime
from .auth import identify
from .errors import ApiError

router = APIRouter(prefix="/api/v1", tags=["events"])

KEEPALIVE_S = 15.0


class _Lease:
    """A stream's subscription and slot, given back once: when the stream ends, or when a
    stream that never started (the client left before the first byte) is collected."""

    def __init__(self, release):
        self._release = release

    def release(self) -> None:
        release, self._release = self._release, None
        if release is not None:
            release()

    def __del__(self):
        self.release()


@router.get("/events", response_class=StreamingResponse, summary="Event stream (text/event-stream)",
            responses={200: {"content": {"text/event-stream": {}},
                             "description": "events: ticket_issued, ticket_called, ticket_started, ticket_finished, "
                                            "ticket_no_show, ticket_transferred, ticket_cancelled, window_paused, "
                                            "window_resumed, config_changed, rating_recorded (window only: never the level, "
                                            "ticket or phone), followup_changed; signed-in streams only: "
                                            "help_requested, help_dismissed (呼叫工作人员); data is JSON"}})
async def events(request: Request, principal=Depends(identify),
                 last_event_id: str | None = Header(None, max_length=20)) -> StreamingResponse:
    hub = hall_runtime(request).hub
    public = principal is None
    slots = request.app.state.streams
    # anonymous streams count per address; a terminal's or staff member's per token holder, so a hall
    # whose terminals reach the server through one NAT address is not capped as one client
    address = f"addr:{request.client.host if request.client else '?'}" if public else \
        f"{principal.kind}:{principal.name}"
    refused = slots.take(address)
    if refused:
        raise ApiError(429, "events", refused, "too_many_streams")
    last = int(last_event_id) if last_event_id and last_event_id.isdigit() else None
    try:
        subscriber, missed = hub.subscribe(last)
    except BaseException:
        slots.give(address)
        raise
    lease = _Lease(lambda: (hub.unsubscribe(subscriber), slots.give(address)))
    if missed is None:  # a client coming from another server process: catch up from the database
        try:
            missed = await run_in_threadpool(hub.relay.replay, hub.relay_hall, last)
        except Exception:
            lease.release()
            raise
    sent = {e.id for e in missed}

    async def stream():
        try:
            yield "retry: 3000\n: connected\n\n"
            for event in missed:
                yield event.frame(public)
            while True:
                try:
                    event = await asyncio.wait_for(subscriber.queue.get(), KEEPALIVE_S)
                except asyncio.TimeoutError:
                    yield ": keep-alive\n\n"  # also lets proxies and the client notice a dead link
                    continue
                if event is None:
                    return
                if event.id in sent:  # replayed from the database and delivered meanwhile
                    continue
                yield event.frame(public)
        finally:
            lease.release()

    return StreamingResponse(stream(), media_type="text/event-stream",
                             headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})
