"""Money as people read it: "$360,000" / "$1,250.50", in the organisation's currency
(settings.CURRENCY, an ISO code; USD by default). Amounts are stored without a currency, so
there is one currency per deployment."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings

SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥", "CAD": "CA$", "AUD": "A$"}


def money(value) -> str:
    if value is None or value == "":
        return "—"
    amount = Decimal(value)
    code = getattr(settings, "CURRENCY", "USD")
    symbol = SYMBOLS.get(code)
    digits = 0 if amount == amount.to_integral_value() else 2
    text = f"{abs(amount):,.{digits}f}"
    sign = "-" if amount < 0 else ""
    return f"{sign}{symbol}{text}" if symbol else f"{sign}{text} {code}"
