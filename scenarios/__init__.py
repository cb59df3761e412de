"""Rehearsal scenarios as data files and the generator that turns one into a session."""
