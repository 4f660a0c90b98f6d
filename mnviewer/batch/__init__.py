"""Batch mode: many recorded sources, each classified by the same per-source run as `run`.

`plan` turns the command line into sources and their output paths and knows which outputs are
complete; `worker` runs one source and writes its files exactly once (temporary name, fsync,
rename); `runner` drives the sources in this process or, through `cluster`, on Ray.
"""
