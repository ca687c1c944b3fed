"""Stream records as bytes: Ion binary for Kinesis (as QLDB wrote them), and the
stdout formats of ``ledger stream``.

- ``ion``: compact Ion text, one record per line (a valid Ion stream, types kept);
- ``jsonl``: one JSON object per line (JSON Lines; Ion types are lost: see below);
- ``json``: each record as indented JSON, one after another.

JSON loses what Ion has and JSON has not (decimal vs float, timestamp precision,
symbols, blobs become base64 text), so record hashes can be checked only from the Ion
forms; the JSON forms are for tools that want a change feed, not an audit.
"""

from __future__ import annotations

import json
from typing import Any

from ledger import ion

FORMATS = ("ion", "json", "jsonl")


def to_bytes(value: Any) -> bytes:
    """The record's Ion binary: what a Kinesis record carries."""
    return ion.dumps(value)


def to_text(value: Any, fmt: str) -> str:
    """The record in a stdout format, ending with a newline."""
    if fmt == "ion":
        return ion.dumps_text(value) + "\n"
    if fmt == "jsonl":
        return json.dumps(ion.to_json(value), ensure_ascii=False, separators=(",", ":")) + "\n"
    if fmt == "json":
        return json.dumps(ion.to_json(value), ensure_ascii=False, indent=2) + "\n"
    raise ValueError(f"unknown stream format {fmt!r}; choose one of {', '.join(FORMATS)}")
