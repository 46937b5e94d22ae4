"""Which columns a listing may be sorted by."""

SORTABLE = {"name", "price", "created_at"}


def sort_column(requested):
    """The requested column if it is sortable, else the name."""
    if requested in SORTABLE:
        return requested
    return "name"
