"""Recorded sessions: storage, playback, load tests, reports."""
