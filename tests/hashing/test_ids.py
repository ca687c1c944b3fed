"""Document, table and transaction ids: the compiled ``new_id`` (ledger/_ion_native.c)
against its pure-Python twin ``ion.pure_new_id``.

A differential oracle for the encoding (``id_text`` against ``ion._id_text`` on any
128-bit number) and properties both generators must have: QLDB's shape (22 base62
characters), strictly ascending within a process, the clock in milliseconds in the top
48 bits, and a forked child that shares none of its parent's next ids.  ~2 s.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger import ion

compiled = ion._ion_native
needs_core = pytest.mark.skipif(compiled is None, reason="the compiled core is not built or forced off")
GENERATORS: list[Callable[[], str]] = [ion.pure_new_id]
if compiled is not None:
    GENERATORS.append(compiled.new_id)


def number_of(text: str) -> int:
    number = 0
    for digit in text:
        number = number * 62 + ion._BASE62.index(digit)
    return number


@needs_core
@settings(max_examples=2000, deadline=None)
@given(st.integers(0, 2**128 - 1))
def test_the_compiled_encoding_is_the_pure_one(n: int) -> None:
    assert compiled.id_text(n) == ion._id_text(n)


@needs_core
@pytest.mark.parametrize(
    "n", [0, 1, 61, 62, 3843, 3844, 62**10 - 1, 62**10, 62**20 - 1, 62**20, 2**64 - 1, 2**64,
          2**80, 2**127, 2**128 - 1],
)
def test_edges_of_the_encoding(n: int) -> None:
    assert compiled.id_text(n) == ion._id_text(n)
    assert number_of(compiled.id_text(n)) == n


@needs_core
@pytest.mark.parametrize("bad", [-1, 2**128, 2**200])
def test_numbers_outside_128_bits_are_refused(bad: int) -> None:
    with pytest.raises(ValueError, match="2\\*\\*128"):
        compiled.id_text(bad)


@pytest.mark.parametrize("new_id", GENERATORS, ids=lambda f: f.__module__ or "compiled")
def test_ids_are_qldb_shaped_ascending_and_led_by_the_clock(new_id: Callable[[], str]) -> None:
    before = time.time_ns() // 1_000_000
    ids = [new_id() for _ in range(20000)]
    after = time.time_ns() // 1_000_000
    assert all(len(i) == ion.ID_LENGTH and i.isascii() and i.isalnum() for i in ids)
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
    first, last = number_of(ids[0]), number_of(ids[-1])
    assert before <= first >> 80 <= last >> 80 <= after + 1  # +1: steps past a busy ms
    assert len({number_of(i) & (2**80 - 1) for i in ids[:100]}) == 100  # random tails


@pytest.mark.parametrize("new_id", GENERATORS, ids=lambda f: f.__module__ or "compiled")
def test_a_forked_child_shares_none_of_its_parents_next_ids(new_id: Callable[[], str]) -> None:
    """Without forgetting its parent's state, a child would hand out the ids (or, in the
    compiled core, the pooled random bytes) its parent hands out next."""
    new_id()
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.write(write, " ".join(new_id() for _ in range(100)).encode())
        os._exit(0)
    os.close(write)
    parents = [new_id() for _ in range(100)]
    os.waitpid(pid, 0)
    with os.fdopen(read, "rb") as pipe:
        childs = pipe.read().decode().split()
    assert len(childs) == 100
    assert not set(parents) & set(childs)
    tails = {number_of(i) & (2**80 - 1) for i in parents}
    assert not tails & {number_of(i) & (2**80 - 1) for i in childs}
