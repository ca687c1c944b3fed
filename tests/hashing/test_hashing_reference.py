"""Differential test: ion_hash against the reference ``ionhash`` package.

Random Ion text (annotations, symbols, sexps, clobs, typed nulls, offsets, exponents,
marker bytes, repeated field names, deep nesting) goes to the reference running in
bench/.venv-ionhash (amazon.ion 0.9.3 + ionhash, see bench/ionhash_bench.py); every
digest must equal ours, for the value as amazon.ion's C extension and its pure-Python
reader build it.  Skipped when that venv has not been created
(``python bench/ionhash_bench.py`` creates it).
"""

from __future__ import annotations

import io
import json
import random
import subprocess
from pathlib import Path

import pytest
from amazon.ion import simpleion

from ledger.hashing import ion_hash

BENCH = Path(__file__).resolve().parents[2] / "bench"
REFERENCE_PYTHON = BENCH / ".venv-ionhash" / "bin" / "python"
REFERENCE_SCRIPT = BENCH / "ionhash_reference.py"


class IonTextGenerator:
    """Random, valid Ion text that exercises every corner of the hash."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)

    def symbol(self) -> str:
        return self.rng.choice(["a", "b", "name", "'\\x0b\\x0c\\x0e'", "'with space'", "''", "$0"])

    def annotations(self) -> str:
        if self.rng.random() < 0.8:
            return ""
        return "".join(f"{self.symbol()}::" for _ in range(self.rng.randint(1, 3)))

    def timestamp(self) -> str:
        rng = self.rng
        year = rng.choice([1, 127, 128, 1999, 2024, 9999])
        date = f"{year:04d}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
        kind = rng.randint(0, 5)
        if kind == 0:
            return f"{year:04d}T"
        if kind == 1:
            return date[:7] + "T"
        if kind == 2:
            return date
        offset = rng.choice(["Z", "-00:00", "+05:30", "-12:34", "+00:00"])
        time = f"{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}"
        if kind == 3:
            return f"{date}T{time}{offset}"
        fraction = "." + "".join(rng.choice("0123456789") for _ in range(rng.randint(1, 9)))
        return f"{date}T{time}:{rng.randint(0, 59):02d}{fraction if kind == 5 else ''}{offset}"

    def scalar(self) -> str:
        rng = self.rng
        choices = [
            lambda: rng.choice(["null", "null.int", "null.struct", "null.sexp", "true", "false"]),
            lambda: str(rng.choice([0, -1, 11, 12, 14, 255, -256, 2**70, -(2**64) + 3])),
            lambda: rng.choice(["0e0", "-0e0", "nan", "+inf", "-inf", "1.5e300", "-2.5e-7"]),
            lambda: rng.choice(["0d0", "-0d0", "0d-3", "0d5", "1.", "-0.00", "12.340", "5d-300"]),
            lambda: rng.choice(['"plain"', '"\\x0b\\x0c\\x0e"', '"ünïcødé"', '"tab\\t"', '""']),
            self.symbol,
            lambda: rng.choice(['{{"clob \\x0b"}}', "{{aGVsbG8=}}", "{{}}", "{{CwwO}}"]),
            self.timestamp,
        ]
        return rng.choice(choices)()

    def children(self, depth: int) -> list[str]:
        return [self.value(depth + 1) for _ in range(self.rng.randint(0, 4))]

    def value(self, depth: int = 0) -> str:
        kind = self.rng.random() if depth < 4 else 0.0
        if kind < 0.55:
            body = self.scalar()
        elif kind < 0.7:
            body = "[" + ", ".join(self.children(depth)) + "]"
        elif kind < 0.8:
            body = "(" + " ".join(self.children(depth)) + ")"
        else:  # field names repeat often: a, b, name
            body = "{" + ", ".join(f"{self.symbol()}: {v}" for v in self.children(depth)) + "}"
        return self.annotations() + body


def _reference_digests(text: str) -> list[str]:
    done = subprocess.run(
        [str(REFERENCE_PYTHON), str(REFERENCE_SCRIPT)],
        input=f"{len(text.encode('utf-8'))}\n{text}",
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=300,
        check=True,
    )
    digests: list[str] = json.loads(done.stdout.splitlines()[0])
    return digests


@pytest.mark.skipif(not REFERENCE_PYTHON.exists(), reason="bench/.venv-ionhash not created")
def test_random_values_match_the_reference_ionhash() -> None:
    generator = IonTextGenerator(seed=20240601)
    texts = [generator.value() for _ in range(1500)]
    stream = "\n".join(texts)
    reference = _reference_digests(stream)
    c_values = simpleion.loads(stream, single_value=False)
    py_values = simpleion.load_python(io.StringIO(stream), single_value=False)
    assert len(reference) == len(c_values) == len(py_values) == len(texts)
    for text, want, c_value, py_value in zip(texts, reference, c_values, py_values, strict=True):
        assert ion_hash(c_value).hex() == want, text
        assert ion_hash(py_value).hex() == want, text
