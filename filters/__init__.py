"""Everything that decides what a message is."""
