"""Subcommands of the mnviewer CLI: each module parses its arguments and prints its output."""
