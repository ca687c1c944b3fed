"""Every conformance case we do not run, each with its reason: the one skip list.

Two kinds of entry:

- ``FILES``, ``FEATURES`` and ``EVAL_FEATURES``: PartiQL that QLDB's dialect does not
  have (docs/QLDB-DIALECT.md), recognized by a case's file or statement (reported as
  "n/a").  The engine answers these with a syntax error or ``NotSupportedError``, never
  a wrong value.
- ``BY_NAME`` and ``BY_PREFIX``: single tests (or families) where this engine
  deliberately differs from the suite (QLDB's behaviour, or the suite disagreeing
  with itself), reported as "differs".  A key may end in `` [strict]`` or
  `` [permissive]`` to skip only that evaluation mode.
"""

from __future__ import annotations

import re

from .suite import EVAL, Case

# ---------------------------------------------------------------- features QLDB lacks

_PIVOT = "PIVOT/UNPIVOT are not in QLDB's dialect"
_SETOP = "set operations (UNION/INTERSECT/EXCEPT, OUTER bag operators) are not in QLDB's dialect"
_INTERVAL = "INTERVAL values are not in QLDB's dialect"
_GRAPH = "graph queries (GPML MATCH) are not in QLDB's dialect"
_DATETIME = (
    "DATE/TIME/TIMESTAMP constructors and PartiQL date/time values are not in QLDB's "
    "dialect (Ion timestamps, `...`, are)"
)
_OVERLAPS = "OVERLAPS (SQL periods) is not in QLDB's dialect"
_ROW = "row and table value constructors ((a, b), VALUES ...) are not in QLDB's dialect"
_CTE = "WITH (common table expressions) and LATERAL are not in QLDB's dialect"
_PARTIAL = "GROUP PARTIAL BY is not in QLDB's dialect"
_JOINS = "RIGHT and FULL joins are not in QLDB's dialect (LEFT joins are our addition)"
_EXCLUDE = "SELECT ... EXCLUDE is not in QLDB's dialect"
_GROUP_ALL = "GROUP ALL is not in QLDB's dialect"
_TYPE_PARAMETERS = (
    "IS <type>(p, s) raises NotSupportedError here: type parameters are not checked in IS"
)

# (pattern over the file's path, reason): whole files about one feature
FILES: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"/experimental/graph/"), _GRAPH),
    (re.compile(r"/pivot\.ion$|/unpivot\.ion$"), _PIVOT),
    (re.compile(r"/setop\.ion$|union-except-intersect\.ion$|bag-operators\.ion$"), _SETOP),
    (re.compile(r"/interval\.ion$"), _INTERVAL),
    (re.compile(r"(date|time)-constructor\.ion$|/time\.ion$"), _DATETIME),
    (re.compile(r"/overlaps\.ion$"), _OVERLAPS),
]

# (pattern over any of the case's statements, reason)
FEATURES: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"\b(UN)?PIVOT\b", re.I), _PIVOT),
    (re.compile(r"\b(UNION|INTERSECT|EXCEPT)\b", re.I), _SETOP),
    (re.compile(r"\bINTERVAL\b", re.I), _INTERVAL),
    (re.compile(r"\bMATCH\s*\(", re.I), _GRAPH),
    (
        re.compile(
            r"\b(DATE|TIME|TIMESTAMP)\s+(WITH(OUT)?\s+TIME\s+ZONE\s+)?'"
            r"|\bTIME\s*\(\d+\)\s*(WITH(OUT)?\s+TIME\s+ZONE\s+)?'|\$(date|time)\b",
            re.I,
        ),
        _DATETIME,
    ),
    (re.compile(r"\bOVERLAPS\b", re.I), _OVERLAPS),
    (re.compile(r"\bVALUES\s*\(", re.I), _ROW),
    (re.compile(r"^\s*WITH\b|\(\s*WITH\b|\bLATERAL\b", re.I), _CTE),
    (re.compile(r"\bGROUP\s+PARTIAL\b", re.I), _PARTIAL),
    (re.compile(r"\b(RIGHT|FULL)(\s+OUTER)?(\s+CROSS)?\s+JOIN\b", re.I), _JOINS),
    (re.compile(r"\bEXCLUDE\b", re.I), _EXCLUDE),
    (re.compile(r"\bGROUP\s+ALL\b", re.I), _GROUP_ALL),
]

# (pattern over the statement, reason) for evaluation cases only: these parse
EVAL_FEATURES: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"\bIS\s+(NOT\s+)?\w+\s*\(", re.I), _TYPE_PARAMETERS),
]

# ---------------------------------------------------------------- deliberate differences

_QLDB = "QLDB Developer Guide"
_CASE = (
    f"names are case-sensitive in QLDB; PartiQL folds unquoted identifiers ({_QLDB}, "
    "'PartiQL reference': 'PartiQL in QLDB is case sensitive')"
)
_CAST = (
    "an impossible CAST is a DataError here in both modes, not MISSING "
    f"({_QLDB}, 'CAST function': 'If the conversion can't be made, the function returns an error')"
)
_CAST_ABSENT = (
    "CAST(NULL/MISSING AS NULL/MISSING) gives NULL or MISSING, not an error "
    f"({_QLDB}, 'CAST function': CAST(missing AS null) -- null, CAST(null AS missing) -- missing)"
)
_NULL_FOR_MISSING = (
    "QLDB's functions return NULL, not MISSING, for a MISSING argument "
    f"({_QLDB}, 'PartiQL functions in Amazon QLDB': 'CHAR_LENGTH(missing) -- null'; "
    "'NULLIF function': 'NULLIF(missing, missing) -- null')"
)
_DECIMAL = (
    "Ion decimals keep their full precision; the suite rounds to 34 digits "
    f"({_QLDB}, 'Data types': QLDB stores Ion decimals, of arbitrary precision)"
)
_KEY = (
    "a struct key that is not a string is a DataError here, not a dropped field "
    "(Ion struct field names are text: no QLDB document can hold another key)"
)
_FROM_ABSENT = (
    "`FROM NULL`/`FROM MISSING` is an error here (a table named Missing needs quotes); "
    f"QLDB's FROM takes tables, history() and nested paths ({_QLDB}, 'SELECT command')"
)
_OFFSET = "LIMIT/OFFSET must be non-negative integers (an error, not ignored; beyond QLDB)"
_SEXP = f"`()` (an empty S-expression) is not in QLDB's dialect ({_QLDB}, 'PartiQL reference')"
_QUOTED = (
    '"..." is a quoted identifier, not a string, as in QLDB '
    f"({_QLDB}, 'PartiQL reference': double quotes denote quoted identifiers)"
)
_KEYWORD_FIELD = (
    "any word after a dot is a field name here: QLDB's documents and views have fields "
    "named like keywords (`data`, `metadata`, `value`), and no QLDB page makes `x.keyword` "
    "an error"
)
_DISAGREES = "the suite disagrees with itself on this one (no QLDB page decides it)"
_NOT_QLDB = "(MOD is PartiQL's, not one of QLDB's functions: no QLDB page decides it)"

BY_NAME: dict[str, str] = {
    # case-insensitive names
    "identifierCaseMismatch": _CASE,
    "dotted path expression with unquoted identifiers accesses field UNAMBIGUOUS_FIELD (uppercase)": _CASE,
    "path expression with table alias in lowercase": _CASE,
    "path expression with table alias in uppercase": _CASE,
    "path expression with ambiguous table alias (lowercase, unquoted) [strict]": _CASE,
    "subscript with variable in lowercase": _CASE,
    "subscript with variable in uppercase [permissive]": _CASE,
    "subscript with variable in mixed case [permissive]": _CASE,
    "subscript with non-existent variable in lowercase [permissive]": _CASE,
    "subscript with non-existent variable in uppercase [permissive]": _CASE,
    "qualified GROUP BY, SELECT and ORDER BY with mixed case": _CASE,
    "equiv array constructor": _CASE,
    # numbers
    "decimalRoundDown": _DECIMAL,
    "decimalRoundUp": _DECIMAL,
    "subtractionOutOfAllowedPrecision": _DECIMAL,
    # row values
    "rowValueConstructor": _ROW,
    "tableValueConstructor": _ROW,
    "inPredicateWithTableConstructor": _ROW,
    "notInPredicateWithTableConstructor": _ROW,
    "row value constructor with simple expressions": _ROW,
    "row value constructor with row value constructors": _ROW,
    "IN operator with implicit values row constructor": _ROW,
    "equiv coercion of a SELECT subquery into an array": _ROW,
    # struct keys
    'exists valid cases{param:"{a: 1}",result:true}': _KEY,
    'exists valid cases{param:"{a: null}",result:true}': _KEY,
    "tuple constructor and mistyped attribute name [permissive]": _KEY,
    "data type mismatch in logical expression [permissive]": _KEY,
    "coll_count without group by": _KEY,
    "cardinality valid cases{param:\"[[], [1,2,3,4,[5,6], ()], ({'a': 1, 'b': 2})]\",result:3}": _SEXP,
    # FROM
    "single source FROM with absent value missing [permissive]": _FROM_ABSENT,
    "single source FROM with absent value missing and AT clause [permissive]": _FROM_ABSENT,
    "single source FROM with absent value null [permissive]": _FROM_ABSENT,
    "single source FROM with absent value null and AT clause [permissive]": _FROM_ABSENT,
    "joinWithShadowedGlobal [permissive]": (
        f"a FROM path on a variable is never a global ({_QLDB}, 'SELECT command': a path "
        "in FROM ranges over the alias it starts with)"
    ),
    "selectDistinctExpression": _QUOTED,
    "invalid path component keyword in path": _KEYWORD_FIELD,
    # errors where PartiQL gives MISSING
    "inner select evaluating to collection with more than one element": (
        "a scalar subquery with several rows is a DataError (no QLDB page defines it; "
        "an error rather than a silently dropped value)"
    ),
    "tuple navigation with array notation without explicit CAST to string": (
        "`s[expr]` looks up a computed string key, as `s['field']` reads a field in QLDB's "
        "PartiQL (no QLDB page covers a computed key)"
    ),
    "equiv tuple path navigation with array notation": (
        "`s[expr]` looks up a computed string key, as `s['field']` reads a field in QLDB's "
        "PartiQL (no QLDB page covers a computed key)"
    ),
    "MOD(NULL, 'some string')": f"NULL wins over a type mismatch in MOD {_NOT_QLDB}",
    "MOD('some string', NULL)": f"NULL wins over a type mismatch in MOD {_NOT_QLDB}",
    "MOD(MISSING, 'some string') [strict]": f"MISSING wins over a type mismatch {_NOT_QLDB}",
    "MOD('some string', MISSING) [strict]": f"MISSING wins over a type mismatch {_NOT_QLDB}",
    "substring invalid quantity [permissive]": (
        f"a negative SUBSTRING length is a DataError ({_QLDB}, 'SUBSTRING function': "
        "length: 'This number can't be negative')"
    ),
    "offset 1-2 [permissive]": _OFFSET,
    "offset <decimal>> [permissive]": _OFFSET,
    "offset <str> [permissive]": _OFFSET,
    # ordering of PartiQL-only values
    "should order data types by the specifications (NULLS LAST default for asc)": _DATETIME,
    "should order data types by the specifications (NULLS FIRST default for desc)": _DATETIME,
    "should order data types by the specifications (nulls should be first due to nulls spec)": _DATETIME,
    "should order data types by the specifications (nulls should be last due to nulls spec)": _DATETIME,
    # the suite against itself
    "structs should be ordered by data types (DESC) (nulls first as default for desc)": (
        "the suite orders [] and {} inside structs one way for ASC, the other for DESC "
        "(ORDER BY is beyond QLDB: no QLDB page decides it)"
    ),
    "selectCorrelatedLeftJoinOnClause": (
        f"{_DISAGREES}: pathNullDotName says (NULL).a is MISSING, this test wants NULL"
    ),
    "selectCorrelatedLeftJoin": (
        f"{_DISAGREES}: pathNullDotName says (NULL).a is MISSING, this test wants NULL"
    ),
    "PG_JOIN_09": (
        "LEFT JOIN pads with one NULL (PG_JOIN_07 agrees), not with the fields of a "
        "schema the subquery would need (LEFT JOIN is beyond QLDB: no QLDB page decides it)"
    ),
    "pathUnpivotWildCardOverStructMultiple [strict]": (
        f"{_DISAGREES}: every step ranges over a struct, which strict mode allows elsewhere"
    ),
    "notInPredicateSingleExpr [strict]": (
        f"{_DISAGREES}: inPredicateSingleExpr says `x IN 5` is no error in strict mode"
    ),
    "equiv aliases from select clause": (
        f"{_DISAGREES}: sql-aggregate's and coll_avg's tests want AVG of ints as a decimal"
    ),
    "equiv coercions with explicit literals": (
        f"{_DISAGREES}: comparison.ion says a number and a string do not compare"
    ),
    "equiv coercion of a SELECT subquery into a scalar": (
        f"{_DISAGREES}: a subquery with no row is NULL or MISSING, never a dropped row"
    ),
}
BY_PREFIX: dict[str, str] = {
    "cast to int invalid values{": _CAST,
    "cast to int invalid target type{": _CAST,
    "cast to MISSING valid cases": _CAST_ABSENT,
    "cast to NULL valid cases": _CAST_ABSENT,
    "explicit timestamp": _DATETIME,
    "timestampz": _DATETIME,
}
PREFIX_MODES: dict[str, str] = {
    "cast to int invalid values{": "permissive",
    "cast to int invalid target type{": "permissive",
}


# single tests named in BY_NAME for a feature QLDB lacks: "n/a", not a difference
FEATURE_REASONS = frozenset({_ROW, _DATETIME, _SEXP})
# features we recognize by pattern but the suite counts as PartiQL we should have
UNSUPPORTED_REASONS = frozenset({_TYPE_PARAMETERS})
NOT_APPLICABLE = "n/a"  # PartiQL that QLDB's dialect does not have
DIFFERS = "differs"  # a deliberate difference from the suite


def reason(case: Case) -> str | None:
    """Why ``case`` is skipped, or None to run it."""
    found = classify(case)
    return found[1] if found else None


def classify(case: Case) -> tuple[str, str] | None:
    """(NOT_APPLICABLE or DIFFERS, the reason) for a skipped case, else None."""
    feature = _feature(case)
    if feature is not None:
        return (DIFFERS if feature in UNSUPPORTED_REASONS else NOT_APPLICABLE), feature
    named = _by_name(case)
    if named is None:
        return None
    return (NOT_APPLICABLE if named in FEATURE_REASONS else DIFFERS), named


def _feature(case: Case) -> str | None:
    for pattern, why in FILES:
        if pattern.search("/" + case.file):
            return why
    patterns = FEATURES + (EVAL_FEATURES if case.category == EVAL else [])
    for statement in case.statements:
        for pattern, why in patterns:
            if pattern.search(statement):
                return why
    return None


# QLDB's own functions (the PartiQL suite's file names), whose MISSING argument gives NULL
_QLDB_FUNCTION_FILES = re.compile(
    r"/functions/(char_length|extract|lower|upper|substring|trim|nullif|size|date_add"
    r"|date_diff|to_string|to_timestamp)\.ion$"
)


_MISSING_WORD = re.compile(r"\bmissing\b", re.I)


def _expects_missing(case: Case) -> bool:
    annotations = getattr(case.output, "ion_annotations", ()) or ()
    return any(getattr(a, "text", a) == "$missing" for a in annotations)


def _by_name(case: Case) -> str | None:
    if (
        _QLDB_FUNCTION_FILES.search("/" + case.file)
        and _expects_missing(case)
        and any(_MISSING_WORD.search(statement) for statement in case.statements)
    ):
        return _NULL_FOR_MISSING
    for key in (f"{case.name} [{case.mode}]", case.name):
        if key in BY_NAME:
            return BY_NAME[key]
    for prefix, why in BY_PREFIX.items():
        wanted = PREFIX_MODES.get(prefix)
        if case.name.startswith(prefix) and wanted in (None, case.mode):
            return why
    return None
