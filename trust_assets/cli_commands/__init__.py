"""The bodies of the ``trust`` commands; ``trust_assets/cli.py`` builds the parser and dispatches to them.

Each module registers its subcommands (``add_parser``) and runs them (``run``). Their imports are light at module
level (argparse, the configuration): a command imports what it needs when it runs, so the read-only commands
(``summary``, ``explain``, ``attribute``, ``models list``, ``models audit``) never load the Dagster code location
(``benchmarks/cli_startup.py`` measures their start-up).
"""
