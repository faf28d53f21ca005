"""``stellarvae fields``: list the Table I fields and their reference values."""
from stellarvae.fields import listing_lines


def add_arguments(parser):
    """``stellarvae fields`` takes no options."""


def run(args):
    print("\n".join(listing_lines()))
    return 0
