"""Command-line tools (argparse and printing only; the logic lives in the library)."""
