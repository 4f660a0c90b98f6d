from mnviewer.cli import run

run()
