"""The "is this input complete?" rule, and splitting input into statements.

A statement runs on ``;`` or, in the shell, on Enter once its brackets, ``<< >>``,
quotes and backtick Ion literals are all closed.  A line starting with a backslash
is a meta-command and is complete on its own.
"""

from __future__ import annotations

from ledger.cli import scanner
from ledger.cli.errors import ShellError
from ledger.cli.scanner import CLOSERS, OPENERS, PUNCT


def is_complete(text: str) -> bool:
    """Whether Enter should run ``text`` rather than start a new line."""
    stripped = text.strip()
    if not stripped or stripped.startswith("\\"):
        return True
    depth = 0
    last = None
    for token in scanner.significant(text):
        if not token.closed:
            return False
        if token.kind == PUNCT and token.text in OPENERS:
            depth += 1
        elif token.kind == PUNCT and token.text in CLOSERS:
            depth -= 1
        last = token
    ends_with_semicolon = last is not None and last.kind == PUNCT and last.text == ";"
    return ends_with_semicolon or depth <= 0


# Words that begin a statement (or a shell word on its own line).  A line break ends a
# statement when its brackets and quotes are closed and the next line begins with one
# of these or a meta-command: the rule the shell applies when Enter is pressed (there
# is no next line yet), so a pasted session runs the same as a script.
STARTERS = frozenset(
    """SELECT INSERT UPDATE DELETE CREATE DROP UNDROP BEGIN START COMMIT ABORT ROLLBACK
    EXPLAIN HELP QUIT EXIT""".split()
)


def split_statements(text: str) -> list[str]:
    """The statements and meta-commands in ``text``, in order, without their ``;``.

    A meta-command runs to the end of its line; comment-only pieces are dropped.
    """
    return [piece for piece, _ in split_located(text)]


def split_located(text: str) -> list[tuple[str, int]]:
    """Each statement or meta-command of ``text`` with the line (from 1) it starts on.

    A statement ends at ``;``, or at a line break where its brackets and quotes are
    closed and the next line starts a new statement (STARTERS, or a meta-command).
    """
    toks = list(scanner.tokens(text))
    pieces: list[tuple[str, int]] = []
    current: list[scanner.Token] = []
    depth = 0
    pos = 0

    def flush() -> None:
        nonlocal current, depth
        body = "".join(t.text for t in current)
        first = next((t for t in current if t.kind not in (scanner.SPACE, scanner.COMMENT)), None)
        if first is not None:
            pieces.append((body.strip(), text.count("\n", 0, first.start) + 1))
        current, depth = [], 0

    for i, token in enumerate(toks):
        if token.start < pos:
            continue  # inside a meta-command line already taken
        if token.text == "\\" and not _has_content("".join(t.text for t in current)):
            end = text.find("\n", token.start)
            end = len(text) if end < 0 else end
            flush()
            pieces.append((text[token.start : end].strip(), text.count("\n", 0, token.start) + 1))
            pos = end
            continue
        if token.kind == PUNCT and token.text == ";":
            flush()
            continue
        if token.kind == PUNCT and token.text in OPENERS:
            depth += 1
        elif token.kind == PUNCT and token.text in CLOSERS:
            depth -= 1
        if (
            token.kind == scanner.SPACE
            and "\n" in token.text
            and depth <= 0
            and _starts(toks, i + 1)
            and any(t.kind not in (scanner.SPACE, scanner.COMMENT) for t in current)
        ):
            flush()  # (a leading comment stays with the statement it precedes)
            continue
        current.append(token)
    flush()
    return pieces


def _starts(toks: list[scanner.Token], i: int) -> bool:
    """Whether the next significant token from ``i`` begins a statement."""
    for token in toks[i:]:
        if token.kind in (scanner.SPACE, scanner.COMMENT):
            continue
        return token.text == "\\" or (token.kind == scanner.WORD and token.text.upper() in STARTERS)
    return False


def _has_content(text: str) -> bool:
    return any(True for _ in scanner.significant(text))


def decode_input(data: bytes, name: str) -> str:
    """``data`` as UTF-8 text; ShellError naming the first bad byte's offset otherwise
    (input is never decoded with replacement characters)."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise ShellError(
            f"{name} is not UTF-8: byte 0x{data[exc.start]:02x} at byte offset {exc.start} "
            f"(line {line}); nothing was run"
        ) from exc


def check_text(text: str, name: str) -> str:
    """``text`` from the command line; ShellError when it holds bytes that are not UTF-8
    (Python keeps them as lone surrogates)."""
    for i, char in enumerate(text):
        if "\udc80" <= char <= "\udcff":
            offset = len(text[:i].encode("utf-8", "surrogateescape"))
            raise ShellError(
                f"{name} is not UTF-8: byte 0x{ord(char) - 0xDC00:02x} at byte offset {offset}; "
                "nothing was run"
            )
    return text
