"""Money for people: integer cents shown as dollars, and dollars as typed read back into cents.

Amounts are integer cents everywhere (DESIGN §4) and stay cents until they are shown; these are
the only places that turn them into text or text into them, so every page, email and quote line
writes ``$1,234.50`` the same way. Reading never goes through a float.
"""

from __future__ import annotations

import re
from decimal import Decimal

__all__ = ["MAX_CENTS", "MoneyInputError", "format_money", "money_input", "parse_money"]

#: The most any single amount typed by staff may be: a typo guard ($100,000.00).
MAX_CENTS = 10_000_000

# ASCII digits only: ``\d`` would also take Arabic-Indic and other Unicode digits.
_MONEY = re.compile(r"^\$?((?:[0-9]{1,3}(?:,[0-9]{3})+)|[0-9]+)(?:\.([0-9]*))?$")
_MAX_INPUT = 40  # characters of an amount; anything longer is not one


class MoneyInputError(ValueError):
    """Typed text that is not an acceptable amount; the message names the field by its label."""


def format_money(cents: int | None, currency: str = "USD", *, trim_cents: bool = False) -> str:
    """Integer cents for display: ``123450`` -> ``"$1,234.50"`` (``None`` -> ``"—"``).

    ``trim_cents`` leaves out ``.00`` of a whole amount (``99500`` -> ``"$995"``), as quote lines
    and descriptions write prices. A currency other than USD is written as its code and a space.
    """
    if cents is None:
        return "—"
    sign = "-" if cents < 0 else ""
    whole, part = divmod(abs(int(cents)), 100)
    symbol = "$" if currency == "USD" else f"{currency} "
    if trim_cents and not part:
        return f"{sign}{symbol}{whole:,}"
    return f"{sign}{symbol}{whole:,}.{part:02d}"


def money_input(cents: int) -> str:
    """Cents as typed into a form field: ``2550`` -> ``"25.50"`` (no symbol, no separators)."""
    return f"{cents // 100}.{cents % 100:02d}"


def parse_money(
    text: str, label: str = "Amount", *, minimum: int = 0, maximum: int = MAX_CENTS
) -> int:
    """Dollars as typed (``"25"``, ``"25.50"``, ``"$1,250.5"``) to integer cents, exactly.

    Refused with :class:`MoneyInputError`: empty, negative, not a number, more than 2 decimals,
    less than ``minimum`` or more than ``maximum`` cents.
    """
    text = text.strip().replace(" ", "")
    if not text:
        raise MoneyInputError(f"{label}: enter the amount in dollars, like 25.00.")
    if text.startswith("-") or text.startswith("$-"):
        raise MoneyInputError(f"{label} must not be negative.")
    match = _MONEY.match(text) if len(text) <= _MAX_INPUT else None
    if match is None:
        raise MoneyInputError(f"{label}: enter the amount in dollars, like 25.00.")
    whole, fraction = match.group(1).replace(",", ""), match.group(2) or ""
    if len(fraction) > 2:
        raise MoneyInputError(f"{label}: at most 2 decimals (whole cents).")
    cents = int(Decimal(f"{whole}.{fraction or '0'}") * 100)  # exact: at most 2 decimals
    if cents < minimum:
        raise MoneyInputError(f"{label} must be at least {format_money(minimum)}.")
    if cents > maximum:
        raise MoneyInputError(f"{label} must be at most {format_money(maximum)}.")
    return cents
