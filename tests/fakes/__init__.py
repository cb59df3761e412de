"""Local servers that speak the platforms protocols, for tests."""
