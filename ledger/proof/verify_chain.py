"""The chain for ``verify``: previousBlockHash links, ``block_hashes``, the ledger tree
(streamed as a frontier of complete subtrees, so memory stays flat), ``times`` and the
digest, today's and a saved one."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ledger.errors import VerificationError
from ledger.hashing import dot, tree
from ledger.journal.journal import Journal, NodeStore
from ledger.proof.signing import SavedDigest
from ledger.proof.verify_blocks import BlockFacts
from ledger.proof.verify_parts import block_ms, check_block_contents
from ledger.storage import layout
from ledger.storage.kv import ReadTxn


class Frontier:
    """Roots of the complete subtrees over the leaves pushed so far: O(log n) hashes.

    ``push`` returns the nodes (level >= 1, index, hash) that the new leaf completes,
    exactly the nodes ``tree.append_leaf`` stores; ``root`` is the digest so far.
    """

    def __init__(self) -> None:
        self._stack: list[tuple[int, bytes]] = []  # (level, root), largest first
        self.size = 0

    def push(self, leaf: bytes) -> list[tuple[int, int, bytes]]:
        index, node, level = self.size, leaf, 0
        completed = []
        while self._stack and self._stack[-1][0] == level:
            node = dot(self._stack.pop()[1], node)
            level += 1
            completed.append((level, index >> level, node))
        self._stack.append((level, node))
        self.size += 1
        return completed

    def root(self) -> bytes:
        acc = b""
        for _, h in reversed(self._stack):
            acc = dot(h, acc)
        return acc


def tree_node_count(size: int) -> int:
    """How many nodes above the leaves a ledger tree of ``size`` leaves stores."""
    count, level = 0, 1
    while size >> level:
        count += size >> level
        level += 1
    return count


class Chain:
    """Each block in order: its link to the previous one, its block_hashes entry, the tree
    nodes it completes and its times entry; at the end, the digests."""

    def __init__(self, journal: Journal, txn: ReadTxn, saved: SavedDigest | None) -> None:
        self.journal, self.txn, self.saved = journal, txn, saved
        self.strand = journal.strand_id
        self.frontier = Frontier()
        self.previous = b""

    def add_block(self, block: Mapping[str, Any], seq: int) -> None:
        """A block on IonPy values: every field checked, every failure worded."""
        self.previous = check_block_contents(block, seq, self.strand, self.previous)
        self._check_tree(seq)
        self._check_time(block_ms(block, seq), seq)

    def add_facts(self, facts: BlockFacts, seq: int) -> None:
        """A block the fast path passed: only the link to the previous block is left."""
        if facts.previous != self.previous:
            raise VerificationError(
                "previousBlockHash breaks the chain",
                expected=self.previous,
                computed=facts.previous,
                block=seq,
            )
        self.previous = facts.block_hash
        self._check_tree(seq)
        self._check_time(facts.ms, seq)

    def _check_tree(self, seq: int) -> None:
        stored = self.txn.get("block_hashes", layout.block_key(seq))
        if stored != self.previous:
            raise VerificationError(
                "block_hashes entry differs from the block's blockHash",
                expected=self.previous,
                computed=stored,
                block=seq,
            )
        for level, index, node in self.frontier.push(self.previous):
            stored = self.txn.get("tree", layout.tree_key(level, index))
            if stored != node:
                raise VerificationError(
                    f"ledger tree node (level {level}, index {index}) is wrong",
                    expected=node,
                    computed=stored,
                    block=seq,
                )
        if self.saved is not None and self.saved.tip.sequence_no == seq:
            self._check_saved_root(seq)

    def _check_saved_root(self, seq: int) -> None:
        """The saved digest recomputed from the verified blocks themselves (the
        consistency proof at the end checks it once more from the stored tree)."""
        root = self.frontier.root()
        if self.saved is not None and self.saved.tip.strand_id == self.strand:
            if root != self.saved.digest:
                raise VerificationError(
                    f"the journal up to block {seq} no longer hashes to the saved digest: "
                    "blocks up to the saved tip were rewritten",
                    expected=self.saved.digest,
                    computed=root,
                    block=seq,
                )

    def _check_time(self, ms: int, seq: int) -> None:
        if self.txn.get("times", layout.times_key(ms, seq)) is None:
            raise VerificationError(
                "times has no entry for the block's timestamp",
                expected=layout.times_key(ms, seq),
                block=seq,
            )

    # -- after the stream -----------------------------------------------------------------
    def check_digest(self, blocks: int) -> None:
        root = self.frontier.root()
        stored, _ = self.journal.digest(self.txn, blocks - 1)
        if stored != root:
            raise VerificationError(
                "the digest from stored tree nodes differs from the recomputed one",
                expected=root,
                computed=stored,
            )

    def check_saved_digest(self, blocks: int) -> None:
        saved = self.saved
        if saved is None:
            return
        if saved.tip.strand_id != self.strand:
            raise VerificationError(
                "the saved digest belongs to another ledger (strand)",
                expected=saved.tip.strand_id,
                computed=self.strand,
            )
        t = saved.tip.sequence_no
        if t >= blocks:
            raise VerificationError(
                f"the journal ends at block {blocks - 1} but the saved digest covers up to "
                f"block {t}: the newest blocks were removed (truncated)",
                expected=t,
                computed=blocks - 1,
                block=blocks,
            )
        proof = tree.consistency_proof(NodeStore(self.txn), t + 1, blocks)
        if not tree.verify_consistency(t + 1, blocks, saved.digest, self.frontier.root(), proof):
            raise VerificationError(
                "today's journal does not extend the saved digest (consistency proof fails)",
                expected=saved.digest,
                block=t,
            )
