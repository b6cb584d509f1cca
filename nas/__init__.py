"""The engine: strategies, proxy evaluation, the Ray Tune search loop, the run store, graph
rendering, reports, config and the ``nas`` command line."""
__version__ = "0.1.0"
