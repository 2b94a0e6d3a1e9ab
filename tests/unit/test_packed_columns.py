"""A batch's column as one text parameter (services/runtime/packed.py): joined by the unit
separator where nothing can be misread, a Postgres array literal where something could."""

from datetime import UTC, date, datetime, timedelta, timezone
from enum import Enum
from zoneinfo import ZoneInfo

import pytest

from services.runtime.packed import pack, pack_rows


def test_a_column_of_text_is_joined_by_the_unit_separator_behind_the_format_mark():
    assert pack(["share-1", "share-2"]) == "|share-1\x1fshare-2"


def test_none_is_the_record_separator():
    assert pack(["camp-1", None, "camp-2"]) == "|camp-1\x1f\x1e\x1fcamp-2"


def test_dates_timestamps_numbers_and_flags_are_written_as_postgres_reads_them():
    assert pack([date(2026, 3, 1), None]) == "|2026-03-01\x1f\x1e"
    assert pack([datetime(2026, 3, 1, 10, 0, 0, 5, tzinfo=UTC)]) == "|2026-03-01 10:00:00.000005+00:00"
    assert pack([datetime(2026, 3, 1, 12, tzinfo=timezone(timedelta(hours=2)))]) == "|2026-03-01 10:00:00+00:00"
    assert pack([1, -2, 2**40]) == "|1\x1f-2\x1f1099511627776"
    assert pack([True, False]) == "|True\x1fFalse"


def test_the_same_date_is_the_same_text_however_often_it_comes():
    assert pack([date(2026, 3, 1)] * 3) == "|" + "\x1f".join(["2026-03-01"] * 3)


def test_a_value_holding_a_separator_sends_the_column_as_an_array_literal():
    assert pack(["a\x1fb", "c"]) == '{"a\x1fb","c"}'
    assert pack(["\x1e", None]) == '{"\x1e",NULL}'


def test_quotes_and_backslashes_are_escaped_in_an_array_literal():
    assert pack(['say "hi"\x1f', "back\\slash"]) == '{"say \\"hi\\"\x1f","back\\\\slash"}'


def test_what_string_to_array_would_misread_is_an_array_literal_too():
    assert pack([""]) == '{""}'  # string_to_array('') is no element at all
    assert pack([]) == "{}"
    assert pack([None, None]) == "{NULL,NULL}"  # no value to tell the type by


def test_two_empty_strings_are_two_elements():
    assert pack(["", ""]) == "|\x1f"


def test_rows_become_one_parameter_per_column():
    assert pack_rows([("s1", 1), ("s2", 2)]) == ["|s1\x1fs2", "|1\x1f2"]


def test_a_column_of_mixed_or_unknown_types_or_naive_timestamps_is_refused():
    for column in ([True, 1], [date(2026, 3, 1), datetime(2026, 3, 1, tzinfo=UTC)], ["a", 1], [b"bytes"],
                   [datetime(2026, 3, 1, 10)]):
        with pytest.raises(TypeError):
            pack(column)


def test_an_enum_member_is_its_value_in_either_form():
    class Network(str, Enum):  # noqa: UP042  # the mixin, whose str() is its name, not StrEnum
        LINKEDIN = "linkedin"

    assert pack([Network.LINKEDIN]) == "|linkedin"
    assert pack([Network.LINKEDIN, "a\x1f"]) == '{"linkedin","a\x1f"}'


def test_equal_timestamps_written_apart_are_each_written_as_they_are():
    new_york = ZoneInfo("America/New_York")
    first = datetime(2026, 11, 1, 1, 30, tzinfo=new_york)  # the hour that comes twice
    second = first.replace(fold=1)  # equal to the first (same wall time, same zone), an hour later
    assert pack([first]) == "|2026-11-01 05:30:00+00:00"
    assert pack([second]) == "|2026-11-01 06:30:00+00:00"


def test_a_timestamp_is_written_in_utc_as_postgres_reads_no_offset_beyond_15_59():
    late = datetime(2026, 12, 1, 10, 0, tzinfo=timezone(timedelta(hours=23, minutes=59)))  # RFC 3339 allows it
    assert pack([late]) == "|2026-11-30 10:01:00+00:00"
