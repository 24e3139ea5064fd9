"""``python -m vidhand`` runs the CLI."""

from vidhand.cli import main

if __name__ == "__main__":
    main()
