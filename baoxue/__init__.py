"""baoxue (保学): the app entry package — settings, embedded database, HTTP app and CLI."""

from .memory import share_polars_memory

share_polars_memory()  # before anything imports polars (the app, the CLI, uvicorn's workers all start here)
