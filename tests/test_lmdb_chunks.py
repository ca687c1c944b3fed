"""Large values of LMDB's chunked databases (storage/chunks.py, lmdb_store.CHUNKED): stored
in page-filling pieces, read back whole, by key and in ranges both ways, overwritten and
deleted like any value; and they take fewer pages than LMDB's overflow pages.  ~5 s."""

from __future__ import annotations

import struct
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ledger.errors import StorageError
from ledger.storage import chunks
from ledger.storage.lmdb_store import LmdbStore


@given(st.integers(0, 70_000))
def test_pieces_join_back_and_fill_pages(size: int) -> None:
    value = bytes(i % 251 for i in range(size))
    pieces = chunks.pieces(value)
    if size <= chunks.INLINE_MAX:
        assert pieces is None
        return
    assert pieces is not None and b"".join(pieces) == value
    head = size + chunks.PAGE_HEADER >= chunks.PAGE
    if head:  # whole overflow pages, exactly
        assert (len(pieces[0]) + chunks.PAGE_HEADER) % chunks.PAGE == 0
    assert all(0 < len(p) <= chunks.PIECE for p in pieces[1 if head else 0 :])


def test_join_groups_pieces_and_passes_whole_values() -> None:
    entries = [(b"k1", b"whole"), (b"k2\x00", b"ab"), (b"k2\x01", b"cd"), (b"k3", b"x"), (b"k4\x00", b"y")]
    assert list(chunks.join(2, entries)) == [(b"k1", b"whole"), (b"k2", b"abcd"), (b"k3", b"x"), (b"k4", b"y")]
    backward = list(reversed(entries))
    assert list(chunks.join(2, backward, reverse=True)) == [
        (b"k4", b"y"), (b"k3", b"x"), (b"k2", b"abcd"), (b"k1", b"whole"),
    ]  # fmt: skip


def _key(n: int) -> bytes:
    return struct.pack(">Q", n)


@pytest.fixture
def store(tmp_path: Path) -> Any:
    s = LmdbStore(str(tmp_path / "l"))
    yield s
    s.close()


operations = st.lists(
    st.tuples(
        st.integers(0, 12),  # key
        st.none() | st.sampled_from([0, 10, 1999, 2000, 2001, 3000, 4080, 4081, 9000, 12_272, 30_000]),
        st.integers(0, 255),  # fill byte
    ),
    max_size=30,
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(operations)
def test_chunked_values_behave_like_a_dict(store: Any, ops: list[tuple[int, int | None, int]]) -> None:
    def clear(w: Any) -> None:
        for key, _ in list(w.range("blocks")):
            w.delete("blocks", key)

    store.write(clear)
    model: dict[bytes, bytes] = {}

    def apply(w: Any) -> None:
        for n, size, fill in ops:
            if size is None:
                w.delete("blocks", _key(n))
                model.pop(_key(n), None)
            else:
                value = bytes([fill]) * size + _key(n)
                w.put("blocks", _key(n), value)
                model[_key(n)] = value
        assert dict(w.range("blocks")) == model  # the write sees its own writes

    store.write(apply)
    txn = store.read()
    try:
        for n in range(14):
            assert txn.get("blocks", _key(n)) == model.get(_key(n))
        ordered = sorted(model.items())
        assert list(txn.range("blocks")) == ordered
        assert list(txn.range("blocks", reverse=True)) == ordered[::-1]
        assert list(txn.range("blocks", _key(3), _key(9))) == [kv for kv in ordered if _key(3) <= kv[0] < _key(9)]
        assert list(txn.range("blocks", _key(3), _key(9), reverse=True)) == [
            kv for kv in ordered[::-1] if _key(3) <= kv[0] < _key(9)
        ]
        assert txn.last("blocks") == (ordered[-1] if ordered else None)
    finally:
        txn.close()


def _pages(store: Any, db: str) -> int:
    env = store._env
    with env.begin() as txn:
        st_ = txn.stat(store.handle(db))
    return int(st_["branch_pages"] + st_["leaf_pages"] + st_["overflow_pages"])


def test_large_values_fill_pages_where_overflow_pages_would_not(store: Any) -> None:
    size, count = 10_300, 60  # a 40-document block: three overflow pages, 12 KiB, each

    def fill(w: Any) -> None:
        for n in range(count):
            w.put("blocks", _key(n), bytes([n]) * size)
            w.put("tables", b"t" * 22 + _key(n), bytes([n]) * size)  # not chunked: overflow

    store.write(fill)
    chunked, whole = _pages(store, "blocks"), _pages(store, "tables")
    assert whole >= count * 3
    assert chunked * chunks.PAGE <= size * count * 1.05 + 2 * chunks.PAGE
    assert chunked < whole * 0.9


def test_a_chunked_database_takes_only_its_own_key_length(store: Any) -> None:
    with pytest.raises(StorageError, match="a key of blocks has 8 bytes, got 9"):
        store.write(lambda w: w.put("blocks", _key(1) + b"\x00", b"x"))


def test_get_head_is_the_first_piece_or_the_whole_value(store: Any) -> None:
    big, small = bytes(range(256)) * 40, b"small"

    def fill(w: Any) -> None:
        w.put("blocks", _key(1), big)
        w.put("blocks", _key(2), small)
        w.put("docs", b"d" * 44, big)  # not chunked

    store.write(fill)
    txn = store.read()
    try:
        head = txn.get_head("blocks", _key(1))
        assert head is not None and big.startswith(head) and len(head) == chunks.PAGE * 2 - chunks.PAGE_HEADER
        assert txn.get_head("blocks", _key(2)) == small
        assert txn.get_head("blocks", _key(3)) is None
        assert txn.get_head("docs", b"d" * 44) == big
    finally:
        txn.close()


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(st.binary(min_size=1, max_size=6), st.binary(max_size=30)), max_size=40))
def test_append_first_databases_take_keys_in_any_order(store: Any, items: list[tuple[bytes, bytes]]) -> None:
    """lmdb_store.APPEND_FIRST: MDB_APPEND when the key is the greatest, else a plain put."""
    from ledger.storage.lmdb_store import APPEND_FIRST

    assert "history" in APPEND_FIRST

    def apply(w: Any) -> None:
        for key, _ in list(w.range("history")):
            w.delete("history", key)
        for key, value in items:
            w.put("history", key, value)

    store.write(apply)
    txn = store.read()
    try:
        assert list(txn.range("history")) == sorted(dict(items).items())
    finally:
        txn.close()
