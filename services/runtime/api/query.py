"""Types for query parameters, which arrive as text and are read by pydantic's lax mode."""

import re
from datetime import date, datetime
from typing import Annotated

from pydantic import BeforeValidator

_FULL_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def _calendar_date(value: object) -> object:
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if not isinstance(value, str) or not _FULL_DATE.fullmatch(value):
        raise ValueError("a date is written YYYY-MM-DD")
    return value


# A day as the calendar date it is (RFC 3339 `full-date`, YYYY-MM-DD): pydantic's lax mode
# also read `1764547200` as seconds since 1970 and a date-time at midnight as its day.
CalendarDate = Annotated[date, BeforeValidator(_calendar_date)]
