"""The management API (FastAPI), usable with or without Ray Serve."""
