"""Storage: bytes, keys and Ion blobs behind a small interface; LMDB implements it.

Nothing here knows SQL or hashing.  ``KVStore`` is the interface (named databases of
ordered byte keys); ``LmdbStore`` is the durable implementation; ``layout`` holds the
key layouts and record codecs; ``keycodec`` the order-preserving encoding of Ion
values used by indexes.
"""

from ledger.storage.kv import DBS, KVStore, ReadTxn, WriteTxn
from ledger.storage.lmdb_store import LmdbStore

__all__ = ["DBS", "KVStore", "ReadTxn", "WriteTxn", "LmdbStore"]
