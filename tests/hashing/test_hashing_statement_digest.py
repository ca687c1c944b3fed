"""A statement digest that reuses the serializations of documents made from its
parameters (KnownSerializations) equals the one computed from scratch."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

import ledger
from ledger.hashing import KnownSerializations, ion_hash_serialization, statement_digest

documents = st.dictionaries(
    st.text(max_size=6), st.integers() | st.text(max_size=10) | st.none(), max_size=5
)


@given(st.lists(documents, max_size=6), documents, st.data())
def test_reused_serializations_give_the_same_digest(docs: list[Any], single: Any, data: Any) -> None:
    known = KnownSerializations()
    for doc in data.draw(st.lists(st.sampled_from(docs), max_size=len(docs))) if docs else []:
        known.add(doc, ion_hash_serialization(doc))
    if data.draw(st.booleans()):
        known.add(single, ion_hash_serialization(single))
    params = (docs, single, tuple(docs), "text")
    assert statement_digest("INSERT INTO T ?", params, known) == statement_digest(
        "INSERT INTO T ?", params
    )


def test_equal_but_distinct_values_are_not_taken_for_each_other() -> None:
    known = KnownSerializations()
    known.add({"a": 1}, ion_hash_serialization({"a": 2}))  # a different object
    assert statement_digest("S", [{"a": 1}], known) == statement_digest("S", [{"a": 1}])


def test_blocks_carry_the_digest_of_the_parameters_as_given(tmp_path: Any) -> None:
    docs = [{"VIN": f"V{i}", "n": i} for i in range(5)]
    with ledger.connect(tmp_path / "l") as db:
        db.execute("CREATE TABLE T")
        db.execute("INSERT INTO T ?", docs)
        db.execute("INSERT INTO T ?", docs[0])
        blocks = [db.get_block(seq)[0] for seq in (1, 2)]
    assert blocks[0]["transactionInfo"]["statements"][0]["statementDigest"] == statement_digest(
        "INSERT INTO T ?", [docs]
    )
    assert blocks[1]["transactionInfo"]["statements"][0]["statementDigest"] == statement_digest(
        "INSERT INTO T ?", [docs[0]]
    )
