"""Proof-of-history commands (get-digest, get-block, get-revision, verify, export, import).

Registered on the ``ledger`` click group by ledger/cli/main.py.
"""

from __future__ import annotations

import click


def register(group: click.Group) -> None:
    """Add this module's commands to ``group``."""
