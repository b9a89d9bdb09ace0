"""The argon2id hasher for staff passwords and the settings PIN.

Production uses argon2-cffi's default profile (RFC 9106 low-memory: argon2id,
64 MiB, t=3, p=4), about a second on a small box, which is the point.

The test suite sets ``KIOSK_INSECURE_TEST_HASH=1`` (tests/conftest.py; server
processes the tests start inherit it) so that each hash costs microseconds
instead: same algorithm, same format, tiny costs. Verification reads the costs
from the stored hash, so either kind verifies anywhere. Nothing else sets it
(tests/test_hashing.py checks a process without it uses the strong costs).
"""

from __future__ import annotations

import os

from argon2 import PasswordHasher

TEST_ENV = "KIOSK_INSECURE_TEST_HASH"


def strong_hasher() -> PasswordHasher:
    return PasswordHasher()  # argon2id, m=65536 KiB, t=3, p=4


def password_hasher() -> PasswordHasher:
    """The hasher for new hashes: the strong one unless the test variable is set."""
    if os.environ.get(TEST_ENV) == "1":
        return PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    return strong_hasher()
