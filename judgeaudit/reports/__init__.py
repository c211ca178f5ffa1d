"""Reports of probe runs: a self-contained HTML page and rich terminal tables."""
