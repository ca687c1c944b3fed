"""The journal: blocks from transactions, commit with OCC, history, digests."""
