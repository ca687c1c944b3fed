"""INSERT, UPDATE, FROM-DML, DELETE, DDL and EXEC REDACT_REVISION through ``execute``."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from amazon.ion import simpleion
from amazon.ion.core import IonType

from ledger.errors import DataError, ProgrammingError
from ledger.ion import ion_type_of
from ledger.query import execute
from ledger.query.context import ACTIVE, INACTIVE, BlockAddress


@pytest.fixture
def table(run: Any) -> Any:
    run("CREATE TABLE T")
    return run


def _doc(ctx: Any, name: str = "T") -> list[Any]:
    from fake import py

    table_id = ctx.table(name).table_id
    return [py(d.data) for d in ctx.docs[table_id].values()]


# ---------------------------------------------------------------- DDL


def test_create_table_returns_table_id(ctx: Any, run: Any) -> None:
    (row,) = run("CREATE TABLE Person")
    assert row == {"tableId": ctx.table("Person").table_id}


def test_create_table_with_tags(ctx: Any, run: Any) -> None:
    run('CREATE TABLE Tagged WITH (aws_tags = `{env: "dev"}`)')
    assert ctx.table("Tagged").tags == {"env": "dev"}
    with pytest.raises(ProgrammingError, match="unknown option"):
        run("CREATE TABLE Other WITH (colour = 'red')")


def test_drop_and_undrop(ctx: Any, table: Any) -> None:
    table_id = ctx.table("T").table_id
    assert table("DROP TABLE T") == [{"tableId": table_id}]
    assert ctx.table_by_id(table_id).status == INACTIVE
    with pytest.raises(ProgrammingError, match="unknown table T"):
        table("SELECT * FROM T")
    assert table(f'UNDROP TABLE "{table_id}"') == [{"tableId": table_id}]
    assert ctx.table_by_id(table_id).status == ACTIVE


def test_drop_unknown_table(run: Any) -> None:
    with pytest.raises(ProgrammingError, match="unknown table Nope"):
        run("DROP TABLE Nope")
    with pytest.raises(ProgrammingError, match="unknown table id"):
        run('UNDROP TABLE "nope"')


def test_create_and_drop_index(ctx: Any, table: Any) -> None:
    table_id = ctx.table("T").table_id
    assert table("CREATE INDEX ON T (a)") == [{"tableId": table_id}]
    (index,) = ctx.table("T").indexes
    assert index.field == "a"
    assert table(f'DROP INDEX "{index.index_id}" ON T WITH (purge = true)') == [
        {"tableId": table_id}
    ]
    assert ctx.table("T").indexes == ()
    with pytest.raises(ProgrammingError, match="unknown index"):
        table('DROP INDEX "zzz" ON T WITH (purge = true)')
    with pytest.raises(ProgrammingError, match="unknown table"):
        table("CREATE INDEX ON Nope (a)")


# ---------------------------------------------------------------- INSERT


def test_insert_value(ctx: Any, table: Any) -> None:
    rows = table("INSERT INTO T VALUE {'a': 1, 'b': [1, 2.50], 'c': `sym`}")
    assert list(rows[0]) == ["documentId"] and len(rows[0]["documentId"]) == 22
    (data,) = ctx.docs[ctx.table("T").table_id].values()
    assert ion_type_of(data.data["b"][1]) is IonType.DECIMAL and str(data.data["b"][1]) == "2.50"
    assert ion_type_of(data.data["c"]) is IonType.SYMBOL


def test_insert_bag_and_parameters(ctx: Any, table: Any) -> None:
    assert len(table("INSERT INTO T << {'a': 1}, {'a': 2} >>")) == 2
    assert len(table("INSERT INTO T <<?, ?>>", {"a": 3}, {"a": 4})) == 2
    assert len(table("INSERT INTO T ?", [{"a": 5}, {"a": 6}])) == 2
    assert len(table("INSERT INTO T ?", {"a": 7})) == 1
    assert sorted(d["a"] for d in _doc(ctx)) == [1, 2, 3, 4, 5, 6, 7]


def test_insert_ion_parameter(ctx: Any, table: Any) -> None:
    value = simpleion.loads("{a: 2019-06-05T00:00Z, b: 1.0}")
    table("INSERT INTO T ?", value)
    (doc,) = ctx.docs[ctx.table("T").table_id].values()
    assert ion_type_of(doc.data["b"]) is IonType.DECIMAL


def test_insert_non_struct_is_rejected(table: Any) -> None:
    with pytest.raises(DataError, match="struct"):
        table("INSERT INTO T VALUE 1")
    with pytest.raises(DataError, match="struct"):
        table("INSERT INTO T << {'a': 1}, 2 >>")
    with pytest.raises(ProgrammingError, match="unknown table X"):
        table("INSERT INTO X VALUE {'a': 1}")


def test_wrong_parameter_count(table: Any) -> None:
    with pytest.raises(ProgrammingError, match="takes 2, got 1"):
        table("INSERT INTO T <<?, ?>>", {"a": 1})
    with pytest.raises(ProgrammingError, match="takes 0, got 1"):
        table("SELECT * FROM T", 1)


# ---------------------------------------------------------------- UPDATE / FROM


@pytest.fixture
def person(ctx: Any, run: Any) -> str:
    run("CREATE TABLE Person")
    (row,) = run(
        "INSERT INTO Person ?",
        {
            "GovId": "P1",
            "Name": "Ann",
            "Age": 30,
            "Address": {"City": "Seattle"},
            "Tags": ["a", "b"],
            "Owners": [{"Id": 1, "Share": 50}, {"Id": 2, "Share": 50}],
        },
    )
    run("INSERT INTO Person ?", {"GovId": "P2", "Name": "Bob"})
    return str(row["documentId"])


def _person(ctx: Any, doc_id: str) -> Any:
    from fake import py

    return py(ctx.docs[ctx.table("Person").table_id][doc_id].data)


def test_update_set(ctx: Any, run: Any, person: str) -> None:
    rows = run(
        "UPDATE Person AS p SET p.Age = p.Age + 1, p.Address.Zip = '98109' WHERE p.GovId = 'P1'"
    )
    assert rows == [{"documentId": person}]
    doc = _person(ctx, person)
    assert doc["Age"] == 31 and doc["Address"] == {"City": "Seattle", "Zip": "98109"}
    assert ctx.calls_named("update")[-1][2] == person


def test_update_without_alias_and_new_nested_field(ctx: Any, run: Any, person: str) -> None:
    run("UPDATE Person SET Extra.Deep = 1 WHERE GovId = 'P1'")
    assert _person(ctx, person)["Extra"] == {"Deep": 1}


def test_update_by_id(ctx: Any, run: Any, person: str) -> None:
    rows = run("UPDATE Person AS p BY pid SET p.Name = 'Anna' WHERE pid = ?", person)
    assert rows == [{"documentId": person}]
    assert _person(ctx, person)["Name"] == "Anna"
    assert ctx.calls_named("get")


def test_update_list_element_and_bracket_field(ctx: Any, run: Any, person: str) -> None:
    run("UPDATE Person AS p SET p.Tags[1] = 'z', p['Name'] = 'A' WHERE p.GovId = 'P1'")
    doc = _person(ctx, person)
    assert doc["Tags"] == ["a", "z"] and doc["Name"] == "A"


def test_update_remove(ctx: Any, run: Any, person: str) -> None:
    run("UPDATE Person AS p REMOVE p.Address WHERE p.GovId = 'P1'")
    run("UPDATE Person AS p REMOVE p.Tags[0] WHERE p.GovId = 'P1'")
    doc = _person(ctx, person)
    assert "Address" not in doc and doc["Tags"] == ["b"]


def test_update_insert_into(ctx: Any, run: Any, person: str) -> None:
    run("UPDATE Person AS p INSERT INTO p.Tags VALUE 'c' WHERE p.GovId = 'P1'")
    run("UPDATE Person AS p INSERT INTO p.Tags VALUE 'first' AT 0 WHERE p.GovId = 'P1'")
    run("UPDATE Person AS p INSERT INTO p VALUE 'e@x' AT 'Email' WHERE p.GovId = 'P1'")
    doc = _person(ctx, person)
    assert doc["Tags"] == ["first", "a", "b", "c"] and doc["Email"] == "e@x"
    with pytest.raises(DataError, match="already exists"):
        run("UPDATE Person AS p INSERT INTO p VALUE 1 AT 'Email' WHERE p.GovId = 'P1'")


def test_update_no_match_writes_nothing(ctx: Any, run: Any, person: str) -> None:
    assert run("UPDATE Person SET Name = 'x' WHERE GovId = 'nobody'") == []
    assert not ctx.calls_named("update")


def test_update_every_document(ctx: Any, run: Any, person: str) -> None:
    assert len(run("UPDATE Person SET Seen = true")) == 2


def test_from_insert_appends(ctx: Any, run: Any, person: str) -> None:
    rows = run("FROM Person AS p WHERE p.GovId = ? INSERT INTO p.Tags VALUE ?", "P1", "new")
    assert rows == [{"documentId": person}]
    assert _person(ctx, person)["Tags"] == ["a", "b", "new"]


def test_from_nested_alias_set_and_remove(ctx: Any, run: Any, person: str) -> None:
    run("FROM Person AS p, p.Owners AS o WHERE o.Id = 2 SET o.Share = 75")
    assert _person(ctx, person)["Owners"] == [{"Id": 1, "Share": 50}, {"Id": 2, "Share": 75}]
    run("FROM Person AS p, p.Owners AS o WHERE o.Id = 1 REMOVE o")
    assert _person(ctx, person)["Owners"] == [{"Id": 2, "Share": 75}]
    assert len(ctx.calls_named("update")) == 2


def test_one_revision_per_document_for_several_bindings(ctx: Any, run: Any, person: str) -> None:
    rows = run("FROM Person AS p, p.Owners AS o SET o.Share = 10")
    assert rows == [{"documentId": person}]
    assert len(ctx.calls_named("update")) == 1
    assert [o["Share"] for o in _person(ctx, person)["Owners"]] == [10, 10]


def test_set_to_missing_removes(ctx: Any, run: Any, person: str) -> None:
    run("UPDATE Person AS p SET p.Age = p.NoSuchField WHERE p.GovId = 'P1'")
    assert "Age" not in _person(ctx, person)


def test_dml_on_non_table_fails(run: Any) -> None:
    with pytest.raises(ProgrammingError):
        run("FROM <<{'a': 1}>> AS x SET x.a = 2")


# ---------------------------------------------------------------- DELETE


def test_delete(ctx: Any, run: Any, person: str) -> None:
    rows = run("DELETE FROM Person AS p WHERE p.GovId = 'P1'")
    assert rows == [{"documentId": person}]
    assert run("SELECT VALUE GovId FROM Person") == ["P2"]
    assert run("DELETE FROM Person WHERE GovId = 'P1'") == []


def test_delete_by_id(ctx: Any, run: Any, person: str) -> None:
    assert run("DELETE FROM Person AS p BY pid WHERE pid = ?", person) == [{"documentId": person}]
    history = run(
        "SELECT h.metadata.version AS v, h.data FROM history(Person) AS h WHERE h.metadata.id = ?",
        person,
    )
    assert history == [{"v": 0, "data": _first_data(history)}, {"v": 1}]


def _first_data(history: list[Any]) -> Any:
    return history[0]["data"]


def test_delete_everything(run: Any, person: str) -> None:
    assert len(run("DELETE FROM Person")) == 2
    assert run("SELECT COUNT(*) FROM Person") == [{"_1": 0}]


# ---------------------------------------------------------------- EXEC


def test_redact_revision(ctx: Any, run: Any, person: str) -> None:
    table_id = ctx.table("Person").table_id
    run("UPDATE Person SET Name = 'New' WHERE GovId = 'P1'")
    (first,) = [r for r in ctx.revisions if r["metadata"]["id"] == person][:1]
    seq = first["blockAddress"]["sequenceNo"]
    rows = run(
        f'EXEC REDACT_REVISION `{{strandId: "{first["blockAddress"]["strandId"]}", '
        f"sequenceNo: {seq}}}`, '{table_id}', '{person}'"
    )
    assert rows == [{"tableId": table_id, "documentId": person, "version": 0}]
    (call,) = ctx.calls_named("redact")
    assert call[1] == BlockAddress(first["blockAddress"]["strandId"], seq)


def test_redact_revision_with_parameter(ctx: Any, run: Any, person: str) -> None:
    table_id = ctx.table("Person").table_id
    run("UPDATE Person SET Name = 'New' WHERE GovId = 'P1'")
    first = next(r for r in ctx.revisions if r["metadata"]["id"] == person)
    address = dict(first["blockAddress"])
    rows = run("EXEC REDACT_REVISION ?, ?, ?", address, table_id, person)
    assert rows[0]["documentId"] == person


def test_exec_errors(run: Any) -> None:
    with pytest.raises(ProgrammingError, match="unknown stored procedure"):
        run("EXEC DO_THINGS 1")
    with pytest.raises(ProgrammingError, match="3 arguments"):
        run("EXEC REDACT_REVISION 1")
    with pytest.raises(DataError, match="block address"):
        run("EXEC REDACT_REVISION 1, 'a', 'b'")


def test_updates_keep_decimal_precision(ctx: Any, table: Any) -> None:
    table("INSERT INTO T VALUE {'amount': 10.50}")
    table("UPDATE T SET amount = amount + 0.25")
    (doc,) = _doc(ctx)
    assert str(doc["amount"]) == "10.75"
    table("UPDATE T SET amount = amount * 2")
    (doc,) = _doc(ctx)
    assert doc["amount"] == Decimal("21.50") and str(doc["amount"]) == "21.50"


def test_execute_returns_fresh_ion_rows(ctx: Any, table: Any) -> None:
    rows = execute(ctx, "INSERT INTO T VALUE {'a': 1}")
    assert rows[0].ion_type is IonType.STRUCT
    assert ion_type_of(rows[0]["documentId"]) is IonType.STRING
