#!/usr/bin/env python
"""Django's command-line utility for Tunery."""
import os
import sys
from pathlib import Path

# platform/ is a source root, not a package (it would shadow the standard `platform` module).
sys.path.insert(1, str(Path(__file__).resolve().parent / "platform"))


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tunery.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
