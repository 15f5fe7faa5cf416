"""Image uploads for the handlers: safe decoding and digit preprocessing (standard library, numpy,
Pillow only)."""
