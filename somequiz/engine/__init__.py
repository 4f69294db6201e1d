"""The engine: pure Python, no I/O. ``graph`` is the step graph of a scenario (edges, best and
richest paths, reachability); ``scoring`` grades answers and holds the pass rules."""
