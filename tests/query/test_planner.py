"""Access paths: which context reads a statement makes, and what EXPLAIN says."""

from __future__ import annotations

from typing import Any

import pytest

from ledger.query import execute, explain


@pytest.fixture
def people(ctx: Any, run: Any) -> Any:
    run("CREATE TABLE P")
    run("CREATE INDEX ON P (id)")
    run("CREATE INDEX ON P (name)")
    run(
        "INSERT INTO P ?",
        [
            {"id": 1, "name": "a", "age": 30},
            {"id": 2, "name": "b", "age": 20},
            {"id": 3.0, "name": "c", "age": 40},
            {"id": 4, "name": "d"},
            {"id": "5", "name": "e"},
            {"id": None, "name": "f"},
        ],
    )
    run("INSERT INTO P VALUE {'id': 6, 'name': `g`}")
    ctx.reset_calls()
    return run


def reads(ctx: Any) -> list[str]:
    return [c[0] for c in ctx.calls if c[0] in ("scan", "get", "index_range", "history")]


def test_full_scan_without_usable_predicate(ctx: Any, people: Any) -> None:
    assert len(people("SELECT * FROM P WHERE age > 25")) == 2
    assert reads(ctx) == ["scan"]


def test_index_equality(ctx: Any, people: Any) -> None:
    assert people("SELECT VALUE name FROM P AS p WHERE p.id = 3") == ["c"]
    assert reads(ctx) == ["index_range"]
    _, _, field, low, high, _ = ctx.calls_named("index_range")[0]
    assert field == "id" and low == high and low.inclusive


def test_index_equality_with_parameter_and_unqualified_name(ctx: Any, people: Any) -> None:
    assert people("SELECT VALUE name FROM P WHERE id = ?", 2) == ["b"]
    assert reads(ctx) == ["index_range"]


def test_index_equality_text_also_finds_symbols(ctx: Any, people: Any) -> None:
    assert people("SELECT VALUE id FROM P WHERE name = 'g'") == [6]
    assert reads(ctx) == ["index_range", "index_range"]


def test_index_in_list(ctx: Any, people: Any) -> None:
    rows = people("SELECT VALUE name FROM P AS p WHERE p.id IN (1, 2, 99)")
    assert sorted(rows) == ["a", "b"]
    assert reads(ctx) == ["index_range"] * 3


def test_index_range(ctx: Any, people: Any) -> None:
    rows = people("SELECT VALUE name FROM P AS p WHERE p.id > 1 AND p.id <= 3")
    assert sorted(rows) == ["b", "c"]
    (call,) = ctx.calls_named("index_range")
    _, _, field, low, high, _ = call
    assert field == "id" and (low.value, low.inclusive) == (1, False)
    assert (high.value, high.inclusive) == (3, True)
    assert reads(ctx) == ["index_range"]


def test_between_uses_the_index(ctx: Any, people: Any) -> None:
    assert sorted(people("SELECT VALUE name FROM P WHERE id BETWEEN 2 AND 4")) == ["b", "c", "d"]
    assert reads(ctx) == ["index_range"]


def test_order_by_indexed_range_skips_the_sort(ctx: Any, people: Any) -> None:
    rows = people("SELECT VALUE p.name FROM P AS p WHERE p.id >= 1 ORDER BY p.id DESC LIMIT 2")
    assert rows == ["g", "d"]
    (call,) = ctx.calls_named("index_range")
    assert call[-1] is True  # descending from the index
    (plan,) = explain(ctx, "SELECT * FROM P AS p WHERE p.id >= 1 ORDER BY p.id DESC")
    assert plan["order"] == "DESC"


def test_order_by_text_range_still_sorts(ctx: Any, people: Any) -> None:
    rows = people("SELECT VALUE p.name FROM P AS p WHERE p.name > 'c' ORDER BY p.name")
    assert rows == ["d", "e", "f", "g"]


def test_comparison_with_null_reads_nothing(ctx: Any, people: Any) -> None:
    assert people("SELECT * FROM P WHERE id = NULL") == []
    assert people("SELECT * FROM P WHERE id > ?", None) == []
    assert reads(ctx) == []


def test_unindexable_key_falls_back_to_a_scan(ctx: Any, people: Any) -> None:
    assert people("SELECT * FROM P WHERE id = ?", {"a": 1}) == []
    assert reads(ctx) == ["scan"]


def test_timestamps_use_the_index_by_instant(ctx: Any, run: Any) -> None:
    run("CREATE TABLE E")
    run("CREATE INDEX ON E (ts)")
    run(
        "INSERT INTO E << {'n': 1, 'ts': `2020-01-01T`}, {'n': 2, 'ts': `2020-01-02T10:00+02:00`},"
        " {'n': 3, 'ts': `2020-01-03T00:00:00.000Z`} >>"
    )
    ctx.reset_calls()
    assert run("SELECT VALUE n FROM E WHERE ts = `2020-01-01T00:00Z`") == [1]
    assert run("SELECT VALUE n FROM E WHERE ts > `2020-01-01T` ORDER BY ts DESC") == [3, 2]
    assert reads(ctx) == ["index_range", "index_range"]


def test_where_is_reapplied_after_the_index(ctx: Any, people: Any) -> None:
    assert people("SELECT VALUE name FROM P WHERE id = 1 AND age > 50") == []
    assert people("SELECT VALUE name FROM P WHERE id IN (1, 2) AND age < 25") == ["b"]


def test_by_id_uses_get(ctx: Any, people: Any) -> None:
    (doc_id,) = people("SELECT VALUE i FROM P AS p BY i WHERE p.name = 'a'")
    ctx.reset_calls()
    assert people("SELECT VALUE p.name FROM P AS p BY i WHERE i = ?", doc_id) == ["a"]
    assert reads(ctx) == ["get"]
    ctx.reset_calls()
    assert people("SELECT VALUE p.name FROM P AS p BY i WHERE i IN (?, 'nope')", doc_id) == ["a"]
    assert reads(ctx) == ["get", "get"]


def test_committed_view_by_metadata_id_and_data_field(ctx: Any, people: Any) -> None:
    (doc_id,) = people("SELECT VALUE i FROM P AS p BY i WHERE p.name = 'b'")
    ctx.reset_calls()
    rows = people(
        "SELECT VALUE c.data.name FROM _ql_committed_P AS c WHERE c.metadata.id = ?", doc_id
    )
    assert rows == ["b"] and reads(ctx) == ["get"]
    ctx.reset_calls()
    assert people("SELECT VALUE c.data.name FROM _ql_committed_P AS c WHERE c.data.id = 2") == ["b"]
    assert reads(ctx) == ["index_range"]


def test_join_uses_index_per_outer_row(ctx: Any, people: Any, run: Any) -> None:
    run("CREATE TABLE O")
    run("INSERT INTO O << {'pid': 1, 'what': 'x'}, {'pid': 2, 'what': 'y'} >>")
    ctx.reset_calls()
    rows = run("SELECT o.what, p.name FROM O AS o, P AS p WHERE p.id = o.pid ORDER BY o.what")
    assert rows == [{"what": "x", "name": "a"}, {"what": "y", "name": "b"}]
    assert reads(ctx) == ["scan", "index_range", "index_range"]


def test_left_join_right_side_ignores_where_for_access(ctx: Any, people: Any, run: Any) -> None:
    run("CREATE TABLE O")
    run("INSERT INTO O << {'pid': 1} >>")
    ctx.reset_calls()
    rows = run(
        "SELECT o.pid, p.name FROM O AS o LEFT JOIN P AS p ON p.id = o.pid WHERE p.name = 'a'"
    )
    assert rows == [{"pid": 1, "name": "a"}]
    assert "index_range" in reads(ctx)


def test_update_and_delete_use_access_paths(ctx: Any, people: Any) -> None:
    people("UPDATE P SET seen = true WHERE id = 2")
    people("DELETE FROM P WHERE id IN (3, 4)")
    assert reads(ctx) == ["index_range"] * 3
    assert len(ctx.calls_named("update")) == 1 and len(ctx.calls_named("delete")) == 2


def test_history_pins_document_id(ctx: Any, people: Any) -> None:
    people("SELECT * FROM history(P) AS h WHERE h.metadata.id = 'abc'")
    (call,) = ctx.calls_named("history")
    assert call[-1] == "abc"


def test_a_lone_source_is_pinned_without_its_alias(ctx: Any, people: Any) -> None:
    """QLDB's documented queries leave the alias out: ``metadata.id`` alone reads one
    document's history (once a scan of the whole table's), ``data.f`` an index."""
    people("SELECT * FROM history(P) WHERE metadata.id = ?", "abc")
    assert [c[-1] for c in ctx.calls_named("history")] == ["abc"]
    ctx.reset_calls()
    (doc_id,) = people("SELECT VALUE c.metadata.id FROM _ql_committed_P AS c WHERE c.data.id = 2")
    ctx.reset_calls()
    assert people("SELECT VALUE data.name FROM _ql_committed_P WHERE metadata.id = ?", doc_id) == [
        "b"
    ]
    assert reads(ctx) == ["get"]
    ctx.reset_calls()
    assert people("SELECT VALUE data.name FROM _ql_committed_P WHERE data.id = 2") == ["b"]
    assert reads(ctx) == ["index_range"]
    ctx.reset_calls()
    people("SELECT * FROM P AS metadata, history(P) WHERE metadata.id = 1")  # two sources:
    assert [c[-1] for c in ctx.calls_named("history")] == [None]  # metadata is P's row


# ---------------------------------------------------------------- EXPLAIN


def test_explain_statement_and_function_agree(ctx: Any, people: Any) -> None:
    statement = "SELECT * FROM P AS p WHERE p.name = ?"
    rows = execute(ctx, "EXPLAIN " + statement, ["a"])
    assert rows == explain(ctx, statement, ["a"])
    (row,) = rows
    assert row["access"] == "index equality" and row["field"] == "name"
    assert row["table"] == "P" and row["alias"] == "p"
    assert reads(ctx) == []  # EXPLAIN does not read documents


def test_explain_shapes(ctx: Any, people: Any) -> None:
    def access(statement: str, *params: Any) -> list[str]:
        return [str(r["access"]) for r in explain(ctx, statement, params)]

    assert access("SELECT * FROM P") == ["full scan"]
    assert access("SELECT * FROM P AS p BY i WHERE i = ?", "x") == ["by id"]
    assert access("SELECT * FROM P WHERE id IN (1, 2)") == ["index IN"]
    assert access("SELECT * FROM P WHERE id < 3") == ["index range"]
    assert access("SELECT * FROM P AS p, p.tags AS t") == ["full scan", "evaluate"]
    assert access("SELECT * FROM history(P) AS h") == ["history"]
    assert access("SELECT * FROM information_schema.user_tables") == ["evaluate"]
    assert access("UPDATE P SET x = 1 WHERE id = 1") == ["index equality"]
    assert access("DELETE FROM P WHERE name = 'a'") == ["index equality"]
    assert access("SELECT * FROM P AS p WHERE EXISTS (SELECT * FROM P AS q WHERE q.id = p.id)") == [
        "full scan",
        "index equality",
    ]
    assert [r["statement"] for r in explain(ctx, "CREATE TABLE Z")] == ["CREATE TABLE"]


def test_equi_join_without_index_hashes_the_inner_side(ctx: Any, people: Any, run: Any) -> None:
    run("CREATE TABLE O")
    run("INSERT INTO O << {'who': 'a', 'what': 'x'}, {'who': 'b', 'what': 'y'} >>")
    rows = explain(ctx, "SELECT * FROM P AS p, O AS o WHERE o.who = p.name AND o.what = 'x'")
    assert [r.get("join") for r in rows] == [None, "inner hash"]
    ctx.reset_calls()
    rows = run("SELECT p.id, o.what FROM P AS p, O AS o WHERE o.who = p.name ORDER BY o.what")
    assert rows == [{"id": 1, "what": "x"}, {"id": 2, "what": "y"}]
    assert reads(ctx) == ["scan", "scan"]  # each table read once, not once per row


# ---------------------------------------------------------------- the plan cache


def test_plan_cache_reuses_and_invalidates_on_catalog_change(ctx: Any, run: Any) -> None:
    from ledger.query.executor import plan_cache_info

    run("CREATE TABLE C")
    run("INSERT INTO C << {'k': 1}, {'k': 2} >>")
    statement = "SELECT VALUE k FROM C WHERE k = ? -- plan cache probe"
    assert run(statement, 1) == [1]
    hits = plan_cache_info()["hits"]
    ctx.reset_calls()
    assert run(statement, 2) == [2]
    assert plan_cache_info()["hits"] == hits + 1
    assert reads(ctx) == ["scan"]
    run("CREATE INDEX ON C (k)")  # the catalog changed: the cached plan must not be used
    ctx.reset_calls()
    assert run(statement, 2) == [2]
    assert reads(ctx) == ["index_range"]


def test_plan_cache_is_per_ledger(run: Any) -> None:
    from fake import FakeContext

    statement = "SELECT VALUE k FROM D -- two ledgers"
    first, second = FakeContext(), FakeContext()
    for ctx, value in ((first, 1), (second, 2)):
        execute(ctx, "CREATE TABLE D")
        execute(ctx, "INSERT INTO D ?", [{"k": value}])
    assert [int(v) for v in execute(first, statement)] == [1]
    assert [int(v) for v in execute(second, statement)] == [2]


def test_unified_text_index_capability_saves_the_symbol_lookup(ctx: Any, people: Any) -> None:
    ctx.text_index_includes_symbols = True  # e.g. an index that keys string and symbol alike
    people("SELECT * FROM P WHERE name = 'a'")
    assert reads(ctx) == ["index_range"]


def test_order_by_an_indexed_field_reads_the_index_in_order(ctx: Any, people: Any) -> None:
    rows = people("SELECT VALUE p.name FROM P AS p ORDER BY p.id DESC NULLS LAST")
    assert rows == ["e", "g", "d", "c", "b", "a", "f"]  # '5' (text) sorts above numbers
    (call,) = ctx.calls_named("index_range")
    _, _, field, low, high, descending = call
    assert (field, low, high, descending) == ("id", None, None, True)
    assert reads(ctx) == ["index_range"]
    (plan,) = explain(ctx, "SELECT * FROM P AS p ORDER BY p.id")
    assert (plan["access"], plan["order"]) == ("index range", "ASC")
    assert "low" not in plan and "high" not in plan


def test_order_by_index_still_puts_absent_values_where_partiql_does(ctx: Any, run: Any) -> None:
    run("CREATE TABLE Q")
    run("CREATE INDEX ON Q (k)")
    run("INSERT INTO Q ?", [{"n": 1, "k": 2}, {"n": 2}, {"n": 3, "k": None}, {"n": 4, "k": 1}])
    assert run("SELECT VALUE q.n FROM Q AS q ORDER BY q.k")[:2] == [4, 1]  # NULLS LAST
    assert sorted(run("SELECT VALUE q.n FROM Q AS q ORDER BY q.k")[2:]) == [2, 3]
    assert run("SELECT VALUE q.n FROM Q AS q ORDER BY q.k NULLS FIRST")[2:] == [4, 1]
    assert run("SELECT VALUE q.n FROM Q AS q ORDER BY q.k DESC")[2:] == [1, 4]  # NULLS FIRST


def test_order_by_with_a_narrower_predicate_keeps_that_access_path(ctx: Any, people: Any) -> None:
    assert people("SELECT VALUE name FROM P WHERE name = 'b' ORDER BY id") == ["b"]
    assert {call[2] for call in ctx.calls_named("index_range")} == {"name"}
