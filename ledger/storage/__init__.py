"""Storage: bytes, keys and Ion blobs behind a small interface; LMDB and PostgreSQL
implement it.

Nothing here knows SQL or hashing.  ``KVStore`` is the interface (named databases of
ordered byte keys); ``LmdbStore`` is the embedded implementation, ``PostgresStore``
(postgres_store.py) the shared one, chosen by ``open_store`` from the location; ``layout`` holds the
key layouts and record codecs; ``keycodec`` the order-preserving encoding of Ion
values used by indexes.
"""

import os

from ledger.storage.kv import DBS, KVStore, ReadTxn, WriteTxn
from ledger.storage.lmdb_store import DEFAULT_MAP_SIZE, LmdbStore
from ledger.storage.postgres_store import PostgresStore, PostgresUrl, is_url

__all__ = ["DBS", "KVStore", "ReadTxn", "WriteTxn", "LmdbStore", "PostgresStore", "is_url",
           "open_store", "store_name"]


def open_store(location: str, *, readonly: bool = False, map_size: int = DEFAULT_MAP_SIZE) -> KVStore:
    """The store at ``location``: a ``postgresql://`` URL or an LMDB directory."""
    if is_url(location):
        return PostgresStore(location, readonly=readonly)
    return LmdbStore(location, readonly=readonly, map_size=map_size)


def store_name(location: str) -> str:
    """The ledger's name: the URL's ``ledger=`` or the directory's name without extension."""
    if is_url(location):
        return PostgresUrl(location).name
    return os.path.splitext(os.path.basename(os.path.abspath(location)))[0]
