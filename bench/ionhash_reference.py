"""G4 peer: the reference ``ionhash`` package, timed on documents sent by the bench.

Runs inside bench/.venv-ionhash (amazon.ion 0.9.3 + ionhash), never in the project's
venv: ionhash does not import with amazon.ion >= 0.11.  It is driven over stdin/stdout
so the bench can interleave its repetitions with the ledger's (this machine's speed
drifts; interleaving keeps the ratio fair):

    stdin:  a line with the byte length of an Ion text stream (one document per
            top-level value), then that text
    stdout: a JSON line with the hex SHA-256 Ion hash of every document
    then, for every "run" line on stdin, a line with the seconds one pass took.
"""

from __future__ import annotations

import json
import sys
import time

import ionhash  # noqa: F401  (adds .ion_hash() to every simpleion value)
from amazon.ion import simpleion


def main() -> None:
    size = int(sys.stdin.buffer.readline())
    text = sys.stdin.buffer.read(size).decode("utf-8")
    documents = list(simpleion.loads(text, single_value=False))
    digests = [d.ion_hash("SHA256").hex() for d in documents]  # also warms up
    print(json.dumps(digests), flush=True)
    for line in sys.stdin:
        if line.strip() != "run":
            break
        start = time.perf_counter()
        for d in documents:
            d.ion_hash("SHA256")
        print(time.perf_counter() - start, flush=True)


if __name__ == "__main__":
    main()
