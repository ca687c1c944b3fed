"""G4: Ion hash of ~300-byte documents, the ledger's ion_hash against ``ionhash``.

Both sides hash the same documents (bench/docs.py) in the same run.  The peer is the
reference ``ionhash`` package (amazon.ion 0.9.3) in its own venv, bench/.venv-ionhash,
created on demand; it runs as a subprocess fed the documents as Ion text
(bench/ionhash_reference.py), hands back its digests, which must equal the ledger's, then
times one pass whenever asked, so its repetitions interleave with the ledger's (this
machine's speed drifts).  The ledger hashes the documents both as amazon.ion loads them
(the headline) and as plain Python values.  Figures: median µs per document over the
repetitions, their min and max, the ratio of the medians and the per-repetition ratios.

    python bench/ionhash_bench.py [--quick] [--json]
    python bench/ionhash_bench.py --setup     # only create the reference venv

``run(quick)`` returns the figures as a dict; ``as_row`` makes it a ``python -m bench``
table row.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
import venv
from collections.abc import Callable
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
if str(BENCH_DIR.parent) not in sys.path:  # run as a script: make `ledger`, `bench` importable
    sys.path.insert(0, str(BENCH_DIR.parent))

from amazon.ion import simpleion  # noqa: E402

from bench.docs import documents  # noqa: E402  (the documents every scenario uses)
from bench.stats import Row  # noqa: E402
from ledger.hashing import ion_hash  # noqa: E402

REFERENCE_VENV = BENCH_DIR / ".venv-ionhash"
REFERENCE_PACKAGES = ["amazon.ion==0.9.3", "ionhash==1.2.1"]
REFERENCE_SCRIPT = BENCH_DIR / "ionhash_reference.py"


def ensure_reference_venv() -> Path:
    """The reference venv's python, creating the venv (and pip installing) if needed."""
    python = REFERENCE_VENV / "bin" / "python"
    check = [str(python), "-c", "import ionhash, amazon.ion"]
    if python.exists() and subprocess.run(check, capture_output=True).returncode == 0:
        return python
    venv.EnvBuilder(with_pip=True, clear=True).create(REFERENCE_VENV)
    install = [str(python), "-m", "pip", "install", "-q", *REFERENCE_PACKAGES]
    subprocess.run(install, check=True, capture_output=True)
    return python


class _Reference:
    """The reference ionhash, running in its own venv, one pass per ``run()``."""

    def __init__(self, text: str) -> None:
        python = ensure_reference_venv()
        self._process = subprocess.Popen(
            [str(python), str(REFERENCE_SCRIPT)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, encoding="utf-8",
        )  # fmt: skip
        assert self._process.stdin is not None and self._process.stdout is not None
        self._stdin, self._stdout = self._process.stdin, self._process.stdout
        self._stdin.write(f"{len(text.encode('utf-8'))}\n{text}")
        self._stdin.flush()
        self.digests: list[str] = json.loads(self._stdout.readline())

    def run(self) -> float:
        """Seconds for one pass over the documents."""
        self._stdin.write("run\n")
        self._stdin.flush()
        return float(self._stdout.readline())

    def close(self) -> None:
        self._stdin.close()
        self._process.wait(timeout=30)


def _one_pass(fn: Callable[[Any], Any], documents: list[Any]) -> float:
    start = time.perf_counter()
    for d in documents:
        fn(d)
    return time.perf_counter() - start


def _figures(times: list[float], n: int) -> dict[str, float]:
    per_doc = sorted(t / n * 1e6 for t in times)
    return {"median_us": statistics.median(per_doc), "min_us": per_doc[0], "max_us": per_doc[-1]}


def _interleaved(
    reference: _Reference, loaded: list[Any], plain: list[Any], repetitions: int
) -> dict[str, list[float]]:
    """One pass of each side per repetition: a drift in machine speed hits all three."""
    times: dict[str, list[float]] = {"ion": [], "plain": [], "reference": []}
    for _ in range(repetitions):
        times["ion"].append(_one_pass(ion_hash, loaded))
        times["plain"].append(_one_pass(ion_hash, plain))
        times["reference"].append(reference.run())
    return times


def run(quick: bool = False) -> dict[str, Any]:
    """Time both sides on the same documents; raise if any digest differs."""
    n, repetitions = (300, 5) if quick else (2000, 9)
    plain = documents(n)
    text = "\n".join(simpleion.dumps(d, binary=False, omit_version_marker=True) for d in plain)
    loaded = list(simpleion.loads(text, single_value=False))
    ours = [ion_hash(d).hex() for d in loaded]  # also warms up caches and dispatch
    if [ion_hash(d).hex() for d in plain] != ours:
        raise AssertionError("ion_hash differs between plain and amazon.ion values")
    reference = _Reference(text)
    try:
        if reference.digests != ours:
            raise AssertionError("ion_hash and the ionhash reference disagree")
        times = _interleaved(reference, loaded, plain, repetitions)
    finally:
        reference.close()
    ion_values, peer = _figures(times["ion"], n), _figures(times["reference"], n)
    plain_values = _figures(times["plain"], n)
    per_repetition = sorted(r / o for r, o in zip(times["reference"], times["ion"], strict=True))
    return {
        "id": "G4",
        "documents": n,
        "repetitions": repetitions,
        "document_bytes_ion_binary": statistics.mean(len(simpleion.dumps(d)) for d in plain),
        "document_bytes_ion_text": len(text.encode("utf-8")) / n,
        "ledger_ion_values": ion_values,
        "ledger_plain_values": plain_values,
        "ionhash_reference": peer,
        "digests_identical": True,
        "ratio": peer["median_us"] / ion_values["median_us"],
        "ratio_plain": peer["median_us"] / plain_values["median_us"],
        "ratio_per_repetition": {"min": per_repetition[0], "max": per_repetition[-1]},
        "target_ratio": 25.0,
    }


def as_row(result: dict[str, Any]) -> Row:
    """The result as a line of ``python -m bench``'s table."""
    return Row(
        id="G4",
        scenario="Ion hash of a ~300-byte document (amazon.ion values)",
        ours=f"{result['ledger_ion_values']['median_us']:.1f} µs",
        peer=f"{result['ionhash_reference']['median_us']:.1f} µs (ionhash 1.2.1)",
        ratio=result["ratio"],
        target=f"≥ {result['target_ratio']:.0f}×, identical digests",
        met=result["ratio"] >= result["target_ratio"] and result["digests_identical"],
        note=f"plain Python values {result['ratio_plain']:.1f}×",
    )


def _print(result: dict[str, Any]) -> None:
    print(f"G4 Ion hash, {result['documents']} documents of "
          f"~{result['document_bytes_ion_binary']:.0f} bytes (Ion binary; "
          f"{result['document_bytes_ion_text']:.0f} as text), "
          f"{result['repetitions']} repetitions; µs per document")  # fmt: skip
    print(f"{'':32} {'median':>8} {'min':>8} {'max':>8}")
    for label, key in [
        ("ledger ion_hash (amazon.ion)", "ledger_ion_values"),
        ("ledger ion_hash (plain Python)", "ledger_plain_values"),
        ("ionhash 1.2.1 (reference)", "ionhash_reference"),
    ]:
        f = result[key]
        print(f"{label:32} {f['median_us']:8.1f} {f['min_us']:8.1f} {f['max_us']:8.1f}")
    print(f"digests identical: {result['digests_identical']}; "
          f"ratio {result['ratio']:.1f}x (plain values {result['ratio_plain']:.1f}x; "
          f"per repetition {result['ratio_per_repetition']['min']:.1f}-"
          f"{result['ratio_per_repetition']['max']:.1f}x), "
          f"target >= {result['target_ratio']:.0f}x")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer documents and repetitions")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument(
        "--setup", action="store_true", help="only create bench/.venv-ionhash (the reference)"
    )
    args = parser.parse_args()
    if args.setup:
        print(ensure_reference_venv())
        return
    result = run(quick=args.quick)
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        _print(result)


if __name__ == "__main__":
    main()
