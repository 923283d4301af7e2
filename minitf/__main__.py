"""`python -m minitf ...` runs the command-line tool (see minitf/cli.py)."""
import sys

from .cli import main

sys.exit(main())
