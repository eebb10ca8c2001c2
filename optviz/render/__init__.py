"""Renderers: plain result data in, matplotlib ``Figure`` out. No torch in here."""
