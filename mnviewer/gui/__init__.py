"""The desktop app: the only package that imports PySide6 (hub.py and opening.py stay Qt-free)."""
