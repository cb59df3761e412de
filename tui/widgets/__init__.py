"""Widgets of the moderator desk."""
