"""Money as text: integer fen to yuan with two decimals, by integer arithmetic (never through a float)."""


def yuan(fen: int, grouping: bool = False) -> str:
    """1234567 -> '12345.67' (or '12,345.67' with grouping); negative amounts keep their sign."""
    whole, cents = divmod(abs(int(fen)), 100)
    return f"{'-' if fen < 0 else ''}{whole:,}.{cents:02d}" if grouping else f"{'-' if fen < 0 else ''}{whole}.{cents:02d}"
