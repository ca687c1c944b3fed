"""Ion timestamps in queries: DATE_ADD, DATE_DIFF, EXTRACT, TO_STRING, TO_TIMESTAMP.

Timestamps keep Ion's precision and offset: adding a day to ```2010T``` gives a
day-precision timestamp, and an unknown offset (``-00:00``) stays unknown.  Format
strings use QLDB's symbols (``yyyy MM dd HH mm ss SSS XXX`` ...), with ``'...'``
quoting literal text.
"""

from __future__ import annotations

import calendar
import datetime as _dt
import re
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from amazon.ion.core import Timestamp, TimestampPrecision

from ledger.errors import DataError
from ledger.query.values import MISSING, TEXTS, TIMESTAMP, instant, kind, text_of

P = TimestampPrecision
_PART_PRECISION = {
    "year": P.YEAR,
    "month": P.MONTH,
    "day": P.DAY,
    "hour": P.MINUTE,
    "minute": P.MINUTE,
    "second": P.SECOND,
}
_MONTHS = [calendar.month_name[i] for i in range(1, 13)]


def _require_timestamp(value: Any, function: str) -> _dt.datetime:
    if kind(value) != TIMESTAMP:
        raise DataError(f"{function} needs a timestamp, got {kind(value)}")
    return value


def _precision(ts: _dt.datetime) -> TimestampPrecision:
    found = getattr(ts, "precision", None)
    return found if found is not None else P.SECOND


def _fraction_digits(ts: _dt.datetime) -> int | None:
    return getattr(ts, "fractional_precision", None)


def make(
    base: _dt.datetime,
    precision: TimestampPrecision,
    fractional_precision: int | None = None,
) -> Timestamp:
    """An Ion Timestamp at ``base`` with the given precision (offset kept as is)."""
    tzinfo = base.tzinfo if precision.includes_minute else None
    kwargs: dict[str, Any] = {"precision": precision}
    if precision == P.SECOND and fractional_precision:
        kwargs["fractional_precision"] = fractional_precision
    micro = base.microsecond if precision == P.SECOND and fractional_precision else None
    return Timestamp(
        base.year,
        base.month,
        base.day,
        base.hour,
        base.minute,
        base.second,
        micro,
        tzinfo=tzinfo,
        **kwargs,
    )


# ---------------------------------------------------------------- DATE_ADD / DATE_DIFF


def _part(value: Any, function: str, allowed: set[str] | dict[str, Any]) -> str:
    part = text_of(value).lower() if kind(value) in TEXTS else str(value).lower()
    if part not in allowed:
        raise DataError(f"{function}: unknown date part {part!r}")
    return part


def _add_months(ts: _dt.datetime, months: int) -> _dt.datetime:
    total = ts.year * 12 + (ts.month - 1) + months
    year, month = divmod(total, 12)
    if not 1 <= year <= 9999:
        raise DataError("DATE_ADD: the result is out of the timestamp range")
    day = min(ts.day, calendar.monthrange(year, month + 1)[1])
    return ts.replace(year=year, month=month + 1, day=day)


def date_add(part: Any, quantity: Any, ts: Any) -> Any:
    part = _part(part, "DATE_ADD", _PART_PRECISION)
    if kind(quantity) != "int":
        raise DataError(f"DATE_ADD needs an integer quantity, got {kind(quantity)}")
    ts = _require_timestamp(ts, "DATE_ADD")
    n = int(quantity)
    base = _dt.datetime(
        ts.year, ts.month, ts.day, ts.hour, ts.minute, ts.second, ts.microsecond, tzinfo=ts.tzinfo
    )
    try:
        if part == "year":
            moved = _add_months(base, 12 * n)
        elif part == "month":
            moved = _add_months(base, n)
        else:
            moved = base + _dt.timedelta(**{part + "s": n})
    except OverflowError as exc:
        raise DataError("DATE_ADD: the result is out of the timestamp range") from exc
    precision = max(_precision(ts), _PART_PRECISION[part], key=lambda p: p.value)
    if precision.includes_minute and not _precision(ts).includes_minute:
        # a date without a time has no local offset: QLDB reads `2010T` as
        # 2010-01-01T00:00:00.000Z ("DATE_ADD function": DATE_ADD(hour, 1, `2017T`) --
        # 2017-01-01T01:00Z), so a result that gains a time is in UTC
        moved = moved.replace(tzinfo=_dt.UTC)
    return make(moved, precision, _fraction_digits(ts))


_UNIT_SECONDS = {"day": 86400, "hour": 3600, "minute": 60, "second": 1}


def date_diff(part: Any, first: Any, second: Any) -> Any:
    part = _part(part, "DATE_DIFF", _PART_PRECISION)
    a = instant(_require_timestamp(first, "DATE_DIFF"))
    b = instant(_require_timestamp(second, "DATE_DIFF"))
    if part in ("year", "month"):
        months = _months_between(a, b)
        return _truncate(months, 12) if part == "year" else months
    seconds = (b - a) // _dt.timedelta(microseconds=1)
    return _truncate(seconds, _UNIT_SECONDS[part] * 1_000_000)


def _months_between(a: _dt.datetime, b: _dt.datetime) -> int:
    months = (b.year - a.year) * 12 + (b.month - a.month)
    rest_a = (a.day, a.time())
    rest_b = (b.day, b.time())
    if months > 0 and rest_b < rest_a:
        months -= 1
    elif months < 0 and rest_b > rest_a:
        months += 1
    return months


def _truncate(value: int, unit: int) -> int:
    quotient = abs(value) // unit
    return quotient if value >= 0 else -quotient


# ---------------------------------------------------------------- EXTRACT


def _offset_minutes(ts: _dt.datetime) -> int | None:
    offset = ts.utcoffset()
    if offset is None:
        return None
    return int(offset.total_seconds() // 60)


def extract(part: Any, ts: Any) -> Any:
    parts = {"year", "month", "day", "hour", "minute", "second", "timezone_hour", "timezone_minute"}
    part = _part(part, "EXTRACT", parts)
    ts = _require_timestamp(ts, "EXTRACT")
    if part.startswith("timezone"):
        minutes = _offset_minutes(ts)
        if minutes is None:
            return None
        sign = -1 if minutes < 0 else 1
        hours, rest = divmod(abs(minutes), 60)
        return sign * (hours if part == "timezone_hour" else rest)
    if part == "second":
        return _seconds(ts)
    return int(getattr(ts, part))


def _seconds(ts: _dt.datetime) -> Any:
    """Whole seconds as an int; with a fraction, a decimal (`5.67`), as PartiQL."""
    fraction = getattr(ts, "fractional_seconds", None)
    if fraction is None:
        fraction = Decimal(ts.microsecond).scaleb(-6) if ts.microsecond else None
    if not fraction:
        return ts.second
    return Decimal(ts.second) + Decimal(fraction)


# ---------------------------------------------------------------- format strings

_TOKEN = re.compile(r"'[^']*'|([A-Za-z])\1*|[^'A-Za-z]+")
# The symbols of QLDB's table ("Timestamp format strings"), and XXXX/XXXXX that the
# "TO_STRING function" page's examples use; any other letter is an error (quote literal
# text: 'y-MM-dd''T''HH').
SYMBOLS = frozenset(
    "yy y yyyy M MM MMM MMMM d dd a h hh H HH m mm s ss S SS SSS X XX XXX XXXX XXXXX "
    "x xx xxx".split()
)


def _tokens(fmt: str) -> list[str]:
    tokens = [m.group(0) for m in _TOKEN.finditer(fmt)]
    if "".join(tokens) != fmt:
        raise DataError(f"invalid timestamp format {fmt!r}: an unclosed quote")
    for token in tokens:
        if token[0].isascii() and token[0].isalpha() and token not in SYMBOLS:
            raise DataError(
                f"invalid timestamp format symbol {token!r} in {fmt!r} "
                "(QLDB's symbols: yy y yyyy M MM MMM MMMM d dd a h hh H HH m mm s ss "
                "S SS SSS X XX XXX x xx xxx; quote other text with '...')"
            )
    return tokens


def _offset_text(minutes: int | None, style: str) -> str:
    width = min(len(style), 3) if len(style) <= 3 else (2 if len(style) == 4 else 3)
    if minutes is None:
        minutes = 0
    if minutes == 0 and style[0] == "X":
        return "Z"
    sign = "-" if minutes < 0 else "+"
    hours, rest = divmod(abs(minutes), 60)
    if width == 1:
        return f"{sign}{hours:02d}"
    if width == 2:
        return f"{sign}{hours:02d}{rest:02d}"
    return f"{sign}{hours:02d}:{rest:02d}"


def _format_token(token: str, ts: _dt.datetime) -> str:
    hour12 = ts.hour % 12 or 12
    simple: dict[str, Callable[[], str]] = {
        "yy": lambda: f"{ts.year % 100:02d}",
        "y": lambda: str(ts.year),
        "yyyy": lambda: f"{ts.year:04d}",
        "M": lambda: str(ts.month),
        "MM": lambda: f"{ts.month:02d}",
        "MMM": lambda: _MONTHS[ts.month - 1][:3],
        "MMMM": lambda: _MONTHS[ts.month - 1],
        "d": lambda: str(ts.day),
        "dd": lambda: f"{ts.day:02d}",
        "a": lambda: "AM" if ts.hour < 12 else "PM",
        "h": lambda: str(hour12),
        "hh": lambda: f"{hour12:02d}",
        "H": lambda: str(ts.hour),
        "HH": lambda: f"{ts.hour:02d}",
        "m": lambda: str(ts.minute),
        "mm": lambda: f"{ts.minute:02d}",
        "s": lambda: str(ts.second),
        "ss": lambda: f"{ts.second:02d}",
    }
    if token in simple:
        return simple[token]()
    if token[0] == "S":
        return f"{ts.microsecond:06d}"[: len(token)]
    if token[0] in "Xx":
        return _offset_text(_offset_minutes(ts), token)
    if token[0] == "'":
        return token[1:-1] if len(token) > 2 else "'"
    return token


def to_string(ts: Any, fmt: Any) -> Any:
    ts = _require_timestamp(ts, "TO_STRING")
    if kind(fmt) not in TEXTS:
        raise DataError(f"TO_STRING needs a format string, got {kind(fmt)}")
    return "".join(_format_token(token, ts) for token in _tokens(text_of(fmt)))


def to_timestamp(text: Any, fmt: Any = MISSING) -> Any:
    if kind(text) not in TEXTS:
        raise DataError(f"TO_TIMESTAMP needs a string, got {kind(text)}")
    if fmt is MISSING:
        return _parse_ion_timestamp(text_of(text))
    if kind(fmt) not in TEXTS:
        raise DataError(f"TO_TIMESTAMP needs a format string, got {kind(fmt)}")
    return _parse_formatted(text_of(text), text_of(fmt))


def _parse_ion_timestamp(text: str) -> Timestamp:
    from ledger.ion import loads

    try:
        value = loads(text)
    except DataError:
        value = None
    if kind(value) != TIMESTAMP:
        raise DataError(f"TO_TIMESTAMP: {text!r} is not an Ion timestamp")
    return value


_PARSE_PATTERNS: dict[str, str] = {
    "yy": r"(?P<yy>\d{2})",
    "y": r"(?P<y>\d{1,4})",
    "yyyy": r"(?P<y>\d{4})",
    "M": r"(?P<M>\d{1,2})",
    "MM": r"(?P<M>\d{2})",
    "MMM": r"(?P<MMM>[A-Za-z]{3})",
    "MMMM": r"(?P<MMMM>[A-Za-z]+)",
    "d": r"(?P<d>\d{1,2})",
    "dd": r"(?P<d>\d{2})",
    "a": r"(?P<a>AM|PM|am|pm)",
    "h": r"(?P<h>\d{1,2})",
    "hh": r"(?P<h>\d{2})",
    "H": r"(?P<H>\d{1,2})",
    "HH": r"(?P<H>\d{2})",
    "m": r"(?P<m>\d{1,2})",
    "mm": r"(?P<m>\d{2})",
    "s": r"(?P<s>\d{1,2})",
    "ss": r"(?P<s>\d{2})",
}


def _parse_pattern(token: str) -> str:
    if token in _PARSE_PATTERNS:
        return _PARSE_PATTERNS[token]
    if token[0] == "S":
        return rf"(?P<S>\d{{{len(token)}}})"
    if token[0] in "Xx":  # X: "Z" for a zero offset; x never (QLDB's format table)
        offset = {1: r"[+-]\d{2}", 2: r"[+-]\d{4}", 4: r"[+-]\d{4}"}.get(
            len(token), r"[+-]\d{2}:\d{2}"
        )
        return rf"(?P<off>Z|{offset})" if token[0] == "X" else rf"(?P<off>{offset})"
    if token[0] == "'":
        return re.escape(token[1:-1] if len(token) > 2 else "'")
    return re.escape(token)


def _parse_formatted(text: str, fmt: str) -> Timestamp:
    regex = "".join(_parse_pattern(t) for t in _tokens(fmt))
    try:
        match = re.fullmatch(regex, text)
    except re.error as exc:
        raise DataError(f"invalid timestamp format {fmt!r}: {exc}") from exc
    if match is None:
        raise DataError(f"TO_TIMESTAMP: {text!r} does not match the format {fmt!r}")
    fields = {k: v for k, v in match.groupdict().items() if v is not None}
    try:
        return _build(fields)
    except ValueError as exc:
        raise DataError(f"TO_TIMESTAMP: {text!r} is not a valid timestamp: {exc}") from exc


def _month(fields: dict[str, str]) -> int | None:
    if "M" in fields:
        return int(fields["M"])
    name = fields.get("MMMM") or fields.get("MMM")
    if name is None:
        return None
    for i, full in enumerate(_MONTHS):
        if full.lower() == name.lower() or full[:3].lower() == name.lower():
            return i + 1
    raise ValueError(f"unknown month {name!r}")


def _hour(fields: dict[str, str]) -> int | None:
    if "H" in fields:
        return int(fields["H"])
    if "h" not in fields:
        return None
    if not 1 <= int(fields["h"]) <= 12:
        raise ValueError(f"hour {fields['h']} is not on a 12-hour clock (1-12)")
    hour = int(fields["h"]) % 12
    return hour + 12 if fields.get("a", "AM").upper() == "PM" else hour


def _offset(text: str | None) -> _dt.tzinfo | None:
    if text is None:
        return None
    if text == "Z":
        return _dt.UTC
    sign = -1 if text[0] == "-" else 1
    digits = text[1:].replace(":", "")
    minutes = int(digits[:2]) * 60 + (int(digits[2:4]) if len(digits) > 2 else 0)
    return _dt.timezone(_dt.timedelta(minutes=sign * minutes))


def _build(fields: dict[str, str]) -> Timestamp:
    year = (
        int(fields["y"])
        if "y" in fields
        else (1900 + int(fields["yy"]) if "yy" in fields else None)
    )
    if year is None:
        raise ValueError("the format has no year")
    if "yy" in fields and int(fields["yy"]) < 70:  # QLDB "TO_TIMESTAMP": 70-99 19xx, 00-69 20xx
        year += 100
    month, day, hour = _month(fields), fields.get("d"), _hour(fields)
    minute, second, frac = fields.get("m"), fields.get("s"), fields.get("S")
    precision = P.YEAR
    for present, level in (
        (month, P.MONTH),
        (day, P.DAY),
        (hour if hour is not None else minute, P.MINUTE),
        (second, P.SECOND),
    ):
        if present is not None:
            precision = level
    kwargs: dict[str, Any] = {"precision": precision}
    micro = None
    if frac is not None and precision == P.SECOND:
        kwargs["fractional_precision"] = len(frac)
        kwargs["fractional_seconds"] = Decimal("0." + frac)
        micro = int((frac + "000000")[:6])
    tzinfo = _offset(fields.get("off")) if precision.includes_minute else None
    return Timestamp(
        year,
        month or 1,
        int(day or 1),
        hour or 0,
        int(minute or 0),
        int(second or 0),
        micro,
        tzinfo=tzinfo,
        **kwargs,
    )
