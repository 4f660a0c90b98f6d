"""Entry point of the frozen app: the same `mnviewer.cli:run` the `mnviewer` script calls."""

from mnviewer.cli import run

run()
