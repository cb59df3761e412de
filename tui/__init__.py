"""The Textual desk and the vigile command line."""
