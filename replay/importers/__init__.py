"""`vigile import`: chat archives made by other tools, read into a normal Vigile session."""
