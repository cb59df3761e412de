"""The agency archive: recorded sessions pushed to PostgreSQL for cross-event questions."""
