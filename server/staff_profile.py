"""Staff photos for the evaluator's idle screen (component "staff_profile").

工号 already lives on the account (``users.staff_no``); the photo is kept in
its own table so the account rows stay small. Photos are JPEG, PNG or WebP,
at most ``MAX_PHOTO`` bytes, checked by their magic bytes.
"""

from __future__ import annotations

import time
from typing import Callable

import sqlalchemy as sa

from kiosk.storage.schema import migrate

MAX_PHOTO = 1_000_000

metadata = sa.MetaData()

staff_photos = sa.Table(
    "staff_photos", metadata,
    sa.Column("username", sa.String(64), primary_key=True),
    sa.Column("content_type", sa.String(32), nullable=False),
    sa.Column("data", sa.LargeBinary, nullable=False),
    sa.Column("updated_at", sa.Float, nullable=False),
)


def _v1(conn: sa.Connection) -> None:
    staff_photos.create(conn, checkfirst=True)


STAFF_PROFILE_MIGRATIONS: list[Callable[[sa.Connection], None]] = [_v1]


def prepare(engine: sa.Engine) -> None:
    migrate(engine, "staff_profile", STAFF_PROFILE_MIGRATIONS)


def image_type(data: bytes) -> str | None:
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None


def set_photo(engine: sa.Engine, username: str, data: bytes, content_type: str) -> None:
    with engine.begin() as conn:
        values = dict(content_type=content_type, data=data, updated_at=time.time())
        if not conn.execute(staff_photos.update().where(staff_photos.c.username == username)
                            .values(**values)).rowcount:
            conn.execute(staff_photos.insert().values(username=username, **values))


def delete_photo(engine: sa.Engine, username: str) -> bool:
    with engine.begin() as conn:
        return bool(conn.execute(staff_photos.delete().where(staff_photos.c.username == username)).rowcount)


def photo(engine: sa.Engine, username: str) -> tuple[bytes, str, float] | None:
    with engine.connect() as conn:
        row = conn.execute(sa.select(staff_photos.c.data, staff_photos.c.content_type, staff_photos.c.updated_at)
                           .where(staff_photos.c.username == username)).first()
    return (bytes(row.data), row.content_type, row.updated_at) if row else None


def photo_stamp(engine: sa.Engine, username: str) -> float | None:
    """When the photo last changed (None: no photo); also a cache-busting query value."""
    with engine.connect() as conn:
        return conn.execute(sa.select(staff_photos.c.updated_at).where(staff_photos.c.username == username)).scalar()
