"""`python -m baoxue …` is the same as the `baoxue` command."""

from .cli import main

main()
