"""The query engine: QLDB's PartiQL dialect over Ion documents.

Stages, one module each, in the order a statement meets them:

- ``grammar.lark`` + ``parser`` (lark LALR, errors, the parse cache) + ``builder``
  (parse tree -> ``ast`` dataclasses);
- ``planner`` (access path per table source: BY id, index equality/IN/range, scan);
- ``sources`` (tables, committed views, history(), information_schema, expressions),
  ``select`` (FROM/joins -> WHERE -> GROUP BY -> ORDER BY -> projection), ``dml``,
  ``ddl`` (statements), ``executor`` (dispatch, the plan cache, EXPLAIN);
- ``evaluator`` (expressions compiled to closures), ``operators``, ``functions``,
  ``aggregates``, ``datetimes``; ``values`` (MISSING, bags, PartiQL equality and
  order, Ion output); ``env`` (run-time scopes).

The engine reads and writes only through a ``QueryContext`` (``context.py``).

>>> from ledger.query import parse
>>> type(parse("SELECT * FROM Person WHERE GovId = ?")).__name__
'Select'
"""

from __future__ import annotations

from ledger.query.context import (
    ACTIVE,
    INACTIVE,
    BlockAddress,
    Bound,
    DocRecord,
    IndexInfo,
    QueryContext,
    TableInfo,
)
from ledger.query.executor import evaluate, execute, explain
from ledger.query.parser import parse
from ledger.query.values import MISSING

__all__ = [
    "parse",
    "execute",
    "evaluate",
    "explain",
    "MISSING",
    "QueryContext",
    "TableInfo",
    "IndexInfo",
    "DocRecord",
    "BlockAddress",
    "Bound",
    "ACTIVE",
    "INACTIVE",
]
