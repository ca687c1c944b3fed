"""The words of QLDB's PartiQL dialect, for highlighting and completion.

Kept apart from the grammar on purpose: the shell also knows its own words
(BEGIN, COMMIT, ABORT) and offers what a person types, not every terminal.
"""

from __future__ import annotations

KEYWORDS = (
    "SELECT", "VALUE", "DISTINCT", "ALL", "FROM", "AS", "AT", "BY", "WHERE", "AND", "OR",
    "NOT", "IN", "IS", "LIKE", "ESCAPE", "BETWEEN", "NULL", "MISSING", "TRUE", "FALSE",
    "INNER", "LEFT", "RIGHT", "FULL", "OUTER", "CROSS", "JOIN", "ON", "GROUP", "HAVING",
    "ORDER", "ASC", "DESC", "NULLS", "FIRST", "LAST", "LIMIT", "OFFSET", "LET", "PIVOT",
    "UNPIVOT", "UNION", "INTERSECT", "EXCEPT", "INSERT", "INTO", "UPDATE", "SET", "REMOVE",
    "DELETE", "CREATE", "DROP", "UNDROP", "TABLE", "INDEX", "WITH", "EXEC", "EXPLAIN",
    "CASE", "WHEN", "THEN", "ELSE", "END", "CAST", "EXISTS", "FOR", "LEADING", "TRAILING",
    "BOTH", "PARTIAL", "OVER", "PARTITION",
)  # fmt: skip

# Transaction control, handled by the shell itself.
SHELL_KEYWORDS = ("BEGIN", "START", "TRANSACTION", "COMMIT", "ABORT", "ROLLBACK")

FUNCTIONS = (
    "COUNT", "SUM", "AVG", "MIN", "MAX", "SIZE", "COALESCE", "NULLIF", "EXISTS",
    "DATE_ADD", "DATE_DIFF", "EXTRACT", "TO_STRING", "TO_TIMESTAMP", "UTCNOW",
    "CHAR_LENGTH", "CHARACTER_LENGTH", "LOWER", "UPPER", "SUBSTRING", "TRIM", "CAST",
    "TXID",
)  # fmt: skip

# Table-valued sources that are not tables.
SOURCES = ("history", "information_schema.user_tables")

TYPES = (
    "null", "missing", "bool", "boolean", "int", "integer", "decimal", "float", "string",
    "symbol", "timestamp", "clob", "blob", "list", "sexp", "struct", "bag",
)  # fmt: skip

DATE_PARTS = (
    "year",
    "month",
    "day",
    "hour",
    "minute",
    "second",
    "timezone_hour",
    "timezone_minute",
)

# Clauses after which a table name comes next.
TABLE_CONTEXT = ("FROM", "INTO", "UPDATE", "TABLE", "JOIN", "ON", "history(")
