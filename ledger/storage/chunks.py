"""Large LMDB values stored in pieces that fill pages, instead of whole overflow pages.

LMDB stores a value too big for a leaf page (over ~2 KiB with 4 KiB pages) in its own
run of whole overflow pages: a 10.3 KiB block takes three pages, 12 KiB, and the last
page's unused part is lost (half a page per value on average: ~50 B per revision for a
block of 40).  So a large value of a chunked database (kv.CHUNKED) is stored as
``key + bytes([i])`` entries, i = 0, 1, ...: first a part that fills whole overflow
pages exactly (``p * PAGE - PAGE_HEADER`` bytes), then the rest in pieces of at most
PIECE bytes, which sit in leaf pages next to other values' pieces.  A value that fits a
leaf page is stored whole under its key, as before format 3: the two cannot be confused
because the database's keys have one fixed length (kv.CHUNKED) and a piece's key is one
byte longer.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

PAGE = 4096  # LMDB's page size on the platforms we run on (the OS page)
PAGE_HEADER = 16  # an overflow run's first page starts with LMDB's page header
INLINE_MAX = 2000  # values up to this stay whole in a leaf page (LMDB's limit ~2022)
PIECE = 800  # at most this many bytes per piece of a value's tail
MAX_PIECES = 256  # a piece's index is one byte


def pieces(value: bytes) -> list[bytes] | None:
    """The pieces ``value`` is stored as, or None to store it whole."""
    size = len(value)
    if size <= INLINE_MAX:
        return None
    pages = (size + PAGE_HEADER) // PAGE
    head = pages * PAGE - PAGE_HEADER if pages else 0
    out = [value[:head]] if head else []
    rest = size - head
    count = -(-rest // PIECE)
    step = -(-rest // count)  # pieces of even size
    out.extend(value[at : at + step] for at in range(head, size, step))
    if len(out) > MAX_PIECES:  # > ~200 KiB of tail cannot happen (the tail is < 4 KiB)
        raise ValueError(f"a value of {size} bytes does not fit {MAX_PIECES} pieces")
    return out


def piece_key(key: bytes, index: int) -> bytes:
    return key + bytes((index,))


def join(
    key_len: int, entries: Iterable[tuple[bytes, bytes]], *, reverse: bool = False
) -> Iterator[tuple[bytes, bytes]]:
    """Logical (key, value) items from a chunked database's entries in key order
    (descending if reverse): whole values as they are, pieces joined.  Pieces that are
    not numbered 0, 1, ... are joined as found (a damaged value that its reader refuses)."""
    group_key: bytes | None = None
    group: list[bytes] = []
    for key, value in entries:
        if len(key) != key_len + 1:
            if group_key is not None:
                yield group_key, _joined(group, reverse)
                group_key, group = None, []
            yield key, value
            continue
        logical = key[:key_len]
        if group_key is not None and logical != group_key:
            yield group_key, _joined(group, reverse)
            group = []
        group_key = logical
        group.append(value)
    if group_key is not None:
        yield group_key, _joined(group, reverse)


def _joined(group: list[bytes], reverse: bool) -> bytes:
    return b"".join(reversed(group) if reverse else group)
