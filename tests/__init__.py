"""Vigile tests."""
