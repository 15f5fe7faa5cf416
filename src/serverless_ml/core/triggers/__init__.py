"""One module per trigger kind: each turns its spec part into a plan ``Fragment``."""
