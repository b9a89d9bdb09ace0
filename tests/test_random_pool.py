"""Ticket ids and link tokens come from a page of OS randomness (kiosk/random_pool.py): each byte handed out
once, never the parent's bytes in a forked child."""

from __future__ import annotations

import os
import uuid

import pytest

from kiosk.random_pool import PAGE, token_bytes, uuid_hex


def test_ids_are_version_4_uuids_and_never_repeat_across_pages():
    ids = [uuid_hex() for _ in range(3 * PAGE // 16)]  # several pages' worth
    assert len(set(ids)) == len(ids)
    assert all(uuid.UUID(i).version == 4 and uuid.UUID(i).variant == uuid.RFC_4122 for i in ids)
    assert len(token_bytes(10)) == 10 and len(token_bytes(PAGE)) == PAGE


@pytest.mark.skipif(not hasattr(os, "fork"), reason="no fork here")
def test_a_forked_child_does_not_hand_out_its_parents_bytes():
    token_bytes(1)  # the parent holds a page with bytes left
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: what it would hand out next
        os.write(w, token_bytes(32))
        os._exit(0)
    os.waitpid(pid, 0)
    child = os.read(r, 32)
    os.close(r)
    os.close(w)
    assert len(child) == 32 and child != token_bytes(32)
