"""Side-by-side benchmarks: the ledger against a peer measured in the same run."""
