"""baoxue (保学): the app entry package — settings, embedded database, HTTP app and CLI."""
