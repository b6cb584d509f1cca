"""Subcommands of ``nas``: every module here defines ``register(subparsers)`` (adding its parser,
with ``func`` set to a callable taking the parsed args and returning an exit code)."""
