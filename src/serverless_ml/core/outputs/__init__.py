"""One module per output kind: each turns its spec part into a plan ``Fragment``."""
