"""The engine: pure Python, no I/O. ``scoring`` grades answers and holds the pass rules; the
step graph it walks is the content's (:mod:`somequiz.content.graph`)."""
