"""usagekit's benchmarks: each prints a ratio against a baseline run side by side.

Run them all with ``python -m benchmarks`` (add ``--smoke`` for a quick check that they still
work, as CI does), or one with ``python -m benchmarks normalize``.
"""
