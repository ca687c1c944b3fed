"""The baseline: cases that run and fail today, each with what is wrong.

Every case the skip list does not name must pass, except these; a failure not listed
here is a regression (tests/query/test_conformance.py), and a listed case that passes
again must leave the list, so that it cannot regress unnoticed either.  Keys are case
ids as the runner prints them: ``file::name [mode]``.
"""

from __future__ import annotations

KNOWN_FAILURES: dict[str, str] = {}
