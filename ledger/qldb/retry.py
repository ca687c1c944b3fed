"""pyqldb's retry policy: ``RetryConfig`` and its backoff with equal jitter."""

from __future__ import annotations

import random
import sys
from collections.abc import Callable

MAX_BACKOFF_MS = 5000  # pyqldb caps the exponential part at 5 s
_MAX_POW = sys.maxsize.bit_length() - 1

Backoff = Callable[[int, BaseException, str], float]


class RetryConfig:
    """How ``execute_lambda`` retries a transaction after an OCC conflict (pyqldb 3.x).

    ``retry_limit``: retries after the first attempt (not negative).  ``base``:
    milliseconds of the first backoff step (not negative).  ``custom_backoff(retry_attempt,
    error, transaction_id) -> milliseconds`` replaces the built-in backoff; a negative
    result means no delay.
    """

    def __init__(
        self, retry_limit: int = 4, base: int = 10, custom_backoff: Backoff | None = None
    ) -> None:
        if base < 0:
            raise ValueError("Base cannot be negative")
        if retry_limit < 0:
            raise ValueError("retry_limit cannot be negative")
        self._retry_limit = retry_limit
        self._base = base
        self._custom_backoff = custom_backoff

    @property
    def retry_limit(self) -> int:
        return self._retry_limit

    @property
    def base(self) -> int:
        return self._base

    @property
    def custom_backoff(self) -> Backoff | None:
        return self._custom_backoff

    def __repr__(self) -> str:
        return f"RetryConfig(retry_limit={self._retry_limit}, base={self._base})"


def calculate_backoff(
    config: RetryConfig, retry_attempt: int, error: BaseException, transaction_id: str
) -> float:
    """Milliseconds to wait before retry ``retry_attempt`` (1 for the first): the custom
    backoff's answer (at least 0), else equal jitter: with
    ``seed = min(base * 2**retry_attempt, 5000)``, ``seed/2 + randint(0, seed/2)``."""
    if config.custom_backoff is not None:
        return max(0.0, float(config.custom_backoff(retry_attempt, error, transaction_id)))
    seed = min(config.base * (1 << min(retry_attempt, _MAX_POW)), MAX_BACKOFF_MS)
    return seed / 2 + random.randint(0, seed // 2)
