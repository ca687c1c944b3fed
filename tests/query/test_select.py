"""SELECT over the QLDB developer guide's vehicle-registration sample and small tables.

Known answers come from the guide's tutorial queries on its sample data (tables
VehicleRegistration, Vehicle, Person, DriversLicense).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from amazon.ion.core import IonType

from ledger.errors import DataError, ProgrammingError
from ledger.ion import ion_type_of
from ledger.query import execute


@pytest.fixture
def dmv_run(dmv: dict[str, Any], run: Any) -> Any:
    return run


# ---------------------------------------------------------------- the guide's queries


def test_select_star_by_vin(dmv_run: Any) -> None:
    rows = dmv_run("SELECT * FROM Vehicle AS v WHERE v.VIN = '1N4AL11D75C109151'")
    assert rows == [
        {
            "VIN": "1N4AL11D75C109151",
            "Type": "Sedan",
            "Year": 2011,
            "Make": "Audi",
            "Model": "A5",
            "Color": "Silver",
        }
    ]


def test_join_registration_to_owner(dmv_run: Any) -> None:
    rows = dmv_run(
        "SELECT p.FirstName, p.LastName, r.VIN FROM VehicleRegistration AS r, Person AS p "
        "WHERE r.Owners.PrimaryOwner.PersonId = p.id OR r.VIN = ''"
    )
    assert rows == []  # Person has no `id` field: documents ids come through BY
    rows = dmv_run(
        "SELECT p.FirstName, r.VIN FROM VehicleRegistration AS r INNER JOIN Person AS p BY pid "
        "ON r.Owners.PrimaryOwner.PersonId = pid WHERE r.City = 'Seattle'"
    )
    assert rows == [{"FirstName": "Raul", "VIN": "1N4AL11D75C109151"}]


def test_secondary_owners_unnest(dmv_run: Any) -> None:
    rows = dmv_run(
        "SELECT r.VIN, o.PersonId FROM VehicleRegistration AS r, r.Owners.SecondaryOwners AS o"
    )
    assert [r["VIN"] for r in rows] == ["1N4AL11D75C109151"]


def test_count_star_default_name(dmv_run: Any) -> None:
    assert dmv_run("SELECT COUNT(*) FROM Person") == [{"_1": 5}]
    assert dmv_run("SELECT COUNT(*) AS n FROM Person WHERE GovIdType = 'Passport'") == [{"n": 2}]


def test_select_value_and_information_schema(dmv_run: Any) -> None:
    names = dmv_run("SELECT VALUE name FROM information_schema.user_tables WHERE status = 'ACTIVE'")
    assert sorted(names) == ["DriversLicense", "Person", "Vehicle", "VehicleRegistration"]


def test_information_schema_rows(ctx: Any, dmv_run: Any) -> None:
    (row,) = dmv_run("SELECT * FROM information_schema.user_tables AS t WHERE t.name = 'Person'")
    table = ctx.table("Person")
    assert row == {
        "tableId": table.table_id,
        "name": "Person",
        "indexes": [{"indexId": table.indexes[0].index_id, "expr": "[GovId]", "status": "ONLINE"}],
        "status": "ACTIVE",
    }


def test_by_id_binds_document_id(dmv: dict[str, Any], dmv_run: Any) -> None:
    raul = dmv["person_ids"][0]
    rows = dmv_run("SELECT pid, p.FirstName FROM Person AS p BY pid WHERE p.GovId = 'LEWISR261LL'")
    assert rows == [{"pid": raul, "FirstName": "Raul"}]
    assert dmv_run("SELECT VALUE p.LastName FROM Person AS p BY pid WHERE pid = ?", raul) == [
        "Lewis"
    ]


def test_committed_view_shape(dmv: dict[str, Any], dmv_run: Any) -> None:
    raul = dmv["person_ids"][0]
    (row,) = dmv_run("SELECT * FROM _ql_committed_Person AS c WHERE c.metadata.id = ?", raul)
    assert set(row) == {"blockAddress", "hash", "data", "metadata"}
    assert row["data"]["GovId"] == "LEWISR261LL"
    assert row["metadata"]["id"] == raul and row["metadata"]["version"] == 0
    assert set(row["blockAddress"]) == {"strandId", "sequenceNo"}


def test_history_of_a_document(ctx: Any, dmv: dict[str, Any], dmv_run: Any) -> None:
    raul = dmv["person_ids"][0]
    dmv_run("UPDATE Person AS p SET p.Address = 'Elsewhere' WHERE p.GovId = 'LEWISR261LL'")
    rows = dmv_run(
        "SELECT h.metadata.version AS v, h.data.Address AS a FROM history(Person) AS h "
        "WHERE h.metadata.id = ?",
        raul,
    )
    assert rows == [
        {"v": 0, "a": "1719 University Street, Seattle, WA, 98109"},
        {"v": 1, "a": "Elsewhere"},
    ]
    (call,) = ctx.calls_named("history")
    assert call[-1] == raul  # the pinned id went to the context


def test_history_by_table_id_and_window(ctx: Any, dmv_run: Any) -> None:
    dmv_run("CREATE TABLE T")
    dmv_run("INSERT INTO T VALUE {'a': 1}")
    table_id = ctx.table("T").table_id
    rows = dmv_run(f"SELECT VALUE h.data.a FROM history('{table_id}') AS h")
    assert rows == [1]
    rows = dmv_run("SELECT VALUE h.data.a FROM history(T, `2000-01-01T`, `2001-01-01T`) AS h")
    assert rows == []
    _, _, start, end, doc = ctx.calls_named("history")[-1]
    assert start.year == 2000 and end.year == 2001 and doc is None


def test_history_after_drop_needs_the_table_id(ctx: Any, run: Any) -> None:
    run("CREATE TABLE Gone")
    run("INSERT INTO Gone VALUE {'a': 1}")
    table_id = ctx.table("Gone").table_id
    run("DROP TABLE Gone")
    with pytest.raises(ProgrammingError, match="unknown table Gone"):
        run("SELECT * FROM history(Gone)")
    assert run(f"SELECT VALUE h.data.a FROM history('{table_id}') AS h") == [1]
    assert run("SELECT VALUE h.data.a FROM history(?) AS h", table_id) == [1]


def test_by_without_alias_and_trailing_semicolon(dmv: dict[str, Any], dmv_run: Any) -> None:
    raul = dmv["person_ids"][0]
    assert dmv_run("SELECT VALUE FirstName FROM Person BY pid WHERE pid = ?;", raul) == ["Raul"]


def test_unknown_table_is_named(dmv_run: Any) -> None:
    with pytest.raises(ProgrammingError, match="unknown table Persons") as info:
        dmv_run("SELECT * FROM Persons")
    assert info.value.line == 1 and info.value.column == 15


# ---------------------------------------------------------------- projection and paths


@pytest.fixture
def people(run: Any) -> Any:
    run("CREATE TABLE P")
    run(
        "INSERT INTO P << {'name': 'a', 'age': 30, 'tags': ['x', 'y'], 'addr': {'city': 'S'}},"
        " {'name': 'b', 'age': 20.5, 'tags': []}, {'name': 'c', 'age': null} >>"
    )
    return run


def test_paths_and_default_names(people: Any) -> None:
    rows = people(
        "SELECT p.name, p.addr.city, p.tags[0], p['age'], p.age + 1 FROM P AS p ORDER BY p.name"
    )
    assert rows == [
        {"name": "a", "city": "S", "_1": "x", "age": 30, "_2": 31},
        {"name": "b", "age": Decimal("20.5"), "_2": Decimal("21.5")},
        {"name": "c", "age": None, "_2": None},
    ]


def test_missing_fields_are_dropped_but_null_kept(people: Any) -> None:
    rows = people("SELECT p.addr, p.age FROM P AS p WHERE p.name = 'c'")
    assert rows == [{"age": None}]


def test_unqualified_names_resolve_to_the_single_source(people: Any) -> None:
    assert people("SELECT name FROM P WHERE age > 25") == [{"name": "a"}]


def test_select_value_keeps_bare_values(people: Any) -> None:
    assert people("SELECT VALUE p.age FROM P AS p WHERE p.name <> 'c' ORDER BY p.age") == [
        Decimal("20.5"),
        30,
    ]


def test_wildcard_path(people: Any) -> None:
    assert people("SELECT VALUE p.tags[*] FROM P AS p WHERE p.name = 'a'") == [["x", "y"]]


def test_select_alias_star(people: Any) -> None:
    rows = people("SELECT p.*, 1 AS one FROM P AS p WHERE p.name = 'b'")
    assert rows == [{"name": "b", "age": Decimal("20.5"), "tags": [], "one": 1}]


def test_at_binds_positions(run: Any) -> None:
    rows = run("SELECT VALUE [i, x] FROM ['a', 'b'] AS x AT i")
    assert rows == [[0, "a"], [1, "b"]]


def test_select_star_over_a_join_merges(run: Any) -> None:
    rows = run("SELECT * FROM <<{'a': 1}>> AS x, <<{'b': 2}, {'b': 3}>> AS y")
    assert rows == [{"a": 1, "b": 2}, {"a": 1, "b": 3}]


def test_left_join_pads_with_null(run: Any) -> None:
    rows = run(
        "SELECT x.k, y.v FROM <<{'k': 1}, {'k': 2}>> AS x "
        "LEFT JOIN <<{'k': 1, 'v': 'one'}>> AS y ON x.k = y.k ORDER BY x.k"
    )
    assert rows == [{"k": 1, "v": "one"}, {"k": 2}]


def test_inner_join_on(run: Any) -> None:
    rows = run(
        "SELECT x.k, y.v FROM <<{'k': 1}, {'k': 2}>> AS x "
        "JOIN <<{'k': 2, 'v': 'two'}>> AS y ON x.k = y.k"
    )
    assert rows == [{"k": 2, "v": "two"}]


def test_subqueries(people: Any) -> None:
    rows = people("SELECT VALUE p.name FROM P AS p WHERE p.age = (SELECT MAX(q.age) FROM P AS q)")
    assert rows == ["a"]
    rows = people(
        "SELECT VALUE p.name FROM P AS p WHERE p.name IN (SELECT q.name FROM P AS q "
        "WHERE q.age < 25)"
    )
    assert rows == ["b"]
    rows = people(
        "SELECT p.name, (SELECT VALUE COUNT(*) FROM p.tags AS t) AS n FROM P AS p "
        "WHERE p.name = 'a'"
    )
    assert rows == [{"name": "a", "n": [2]}]
    rows = people("SELECT VALUE s.n FROM (SELECT p.name AS n FROM P AS p) AS s WHERE s.n > 'a'")
    assert sorted(rows) == ["b", "c"]


def test_exists(people: Any) -> None:
    rows = people("SELECT VALUE p.name FROM P AS p WHERE EXISTS(p.tags)")
    assert rows == ["a"]
    rows = people(
        "SELECT VALUE p.name FROM P AS p WHERE EXISTS (SELECT * FROM P AS q WHERE q.age > p.age)"
    )
    assert rows == ["b"]


# ---------------------------------------------------------------- grouping, ordering


@pytest.fixture
def sales(run: Any) -> Any:
    run("CREATE TABLE S")
    run(
        "INSERT INTO S << {'k': 'a', 'v': 1}, {'k': 'a', 'v': 2.5}, {'k': 'b', 'v': 4},"
        " {'k': 'b'}, {'k': 'c', 'v': null}, {'v': 7} >>"
    )
    return run


def test_aggregates_without_group_by(sales: Any) -> None:
    rows = sales(
        "SELECT COUNT(*) AS n, COUNT(v) AS nv, SUM(v) AS s, MIN(v) AS lo, MAX(v) AS hi,"
        " AVG(v) AS mean FROM S"
    )
    assert rows == [
        {"n": 6, "nv": 4, "s": Decimal("14.5"), "lo": 1, "hi": 7, "mean": Decimal("3.625")}
    ]


def test_aggregates_over_nothing(sales: Any) -> None:
    rows = sales("SELECT COUNT(*) AS n, SUM(v) AS s, AVG(v) AS a FROM S WHERE v > 100")
    assert rows == [{"n": 0, "s": None, "a": None}]


def test_group_by_having_order(sales: Any) -> None:
    rows = sales(
        "SELECT k, COUNT(*) AS n, SUM(v) AS s FROM S AS x WHERE x.k IS NOT MISSING "
        "GROUP BY x.k HAVING COUNT(*) > 1 ORDER BY k"
    )
    assert rows == [{"k": "a", "n": 2, "s": Decimal("3.5")}, {"k": "b", "n": 2, "s": 4}]


def test_group_by_alias_and_order_by_aggregate(sales: Any) -> None:
    rows = sales("SELECT g, COUNT(*) AS n FROM S AS x GROUP BY x.k AS g ORDER BY COUNT(*) DESC, g")
    assert rows[:2] == [{"g": "a", "n": 2}, {"g": "b", "n": 2}]
    assert len(rows) == 4


def test_boolean_aggregates(run: Any) -> None:
    rows = run(
        "SELECT EVERY(x.b) AS e, ANY(x.b) AS a, SOME(x.b) AS s FROM "
        "<<{'b': true}, {'b': false}, {'b': null}>> AS x"
    )
    assert rows == [{"e": False, "a": True, "s": True}]


def test_count_distinct(sales: Any) -> None:
    assert sales("SELECT COUNT(DISTINCT k) AS n FROM S") == [{"n": 3}]


def test_distinct(sales: Any) -> None:
    assert sorted(sales("SELECT DISTINCT VALUE k FROM S WHERE k IS NOT MISSING")) == ["a", "b", "c"]


def test_order_by_nulls_default_and_explicit(sales: Any) -> None:
    asc = sales("SELECT VALUE v FROM S WHERE k IS NOT MISSING ORDER BY v")
    assert asc == [1, Decimal("2.5"), 4, None, None]  # MISSING and NULL sort last
    desc = sales("SELECT VALUE v FROM S WHERE k IS NOT MISSING ORDER BY v DESC")
    assert desc[-1] == 1 and desc[0] is None
    first = sales("SELECT VALUE v FROM S WHERE k IS NOT MISSING ORDER BY v NULLS FIRST")
    assert first[-1] == 4


def test_order_by_select_alias(sales: Any) -> None:
    rows = sales("SELECT x.v * 2 AS dbl FROM S AS x WHERE x.v IS NOT NULL ORDER BY dbl DESC")
    assert [r["dbl"] for r in rows] == [14, 8, Decimal("5.0"), 2]


def test_limit_offset(sales: Any) -> None:
    rows = sales("SELECT VALUE v FROM S WHERE v IS NOT NULL ORDER BY v LIMIT 2 OFFSET 1")
    assert rows == [Decimal("2.5"), 4]
    assert sales("SELECT VALUE v FROM S ORDER BY v LIMIT ?", 0) == []
    with pytest.raises(DataError):
        sales("SELECT * FROM S LIMIT -1")


def test_aggregate_in_where_is_rejected(sales: Any) -> None:
    with pytest.raises(ProgrammingError, match="WHERE"):
        sales("SELECT * FROM S WHERE COUNT(*) > 1")


def test_results_are_ion(ctx: Any, sales: Any) -> None:
    rows = execute(ctx, "SELECT k, v, `sym` AS s, `1e0` AS f, `2020T` AS t FROM S WHERE v = 2.5")
    (row,) = rows
    assert row.ion_type is IonType.STRUCT
    assert ion_type_of(row["k"]) is IonType.STRING
    assert ion_type_of(row["v"]) is IonType.DECIMAL and str(row["v"]) == "2.5"
    assert ion_type_of(row["s"]) is IonType.SYMBOL
    assert ion_type_of(row["f"]) is IonType.FLOAT
    assert ion_type_of(row["t"]) is IonType.TIMESTAMP


def test_bag_results_from_expression_statements(run: Any) -> None:
    assert run("<<1, 2>>") == [1, 2]
    assert run("[1, 2]") == [[1, 2]]
