"""Keyset (cursor) pages: each page starts at the last item of the one before, found by an index seek.

OFFSET pagination reads and throws away every row before the page, so its cost grows with the page number and the
whole list; a keyset page costs the same anywhere in a list of any length, and a link stays on the same items when
new ones arrive at the top.
"""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.db.models import DateTimeField, F, Field, Func, QuerySet, Value
from django.db.models.lookups import GreaterThan, LessThan
from django.http import Http404

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class Row(Func):
    """PostgreSQL's row constructor: ``(a, b, c) < (x, y, z)`` compares in order and is one seek in an index on
    (a, b, c), where the equivalent OR of comparisons is a scan."""

    function = "ROW"
    output_field = Field()


@dataclass(frozen=True)
class CursorPage:
    object_list: list
    newer: str | None  # the cursor of the page before (the ``before`` parameter), None on the first page
    older: str | None  # the cursor of the page after (the ``after`` parameter), None on the last page

    @property
    def has_other_pages(self) -> bool:
        return bool(self.newer or self.older)


def _descending_keys(queryset: QuerySet) -> list[str]:
    ordering = list(queryset.query.order_by)
    if not ordering or not all(isinstance(key, str) and key.startswith("-") for key in ordering):
        raise ValueError(f"Keyset pages need an explicit descending order_by, not {ordering!r}.")
    return [key[1:] for key in ordering]


def _encode(item, keys: list[str]) -> str:
    parts = []
    for key in keys:
        value = getattr(item, key)
        parts.append((value - EPOCH) // timedelta(microseconds=1) if isinstance(value, datetime) else value)
    return "-".join(str(part) for part in parts)


def _decode(cursor: str, queryset: QuerySet, keys: list[str]) -> list:
    parts = cursor.split("-")
    if len(parts) != len(keys) or not all(part.isascii() and part.isdigit() for part in parts):
        raise Http404("That page link is not one this site made.")
    values = []
    for key, part in zip(keys, parts, strict=True):
        field = queryset.model._meta.pk if key == "pk" else queryset.model._meta.get_field(key)
        values.append(EPOCH + timedelta(microseconds=int(part)) if isinstance(field, DateTimeField) else int(part))
    return values


def _past(keys: list[str], values: list, *, older: bool):
    columns, cursor = Row(*(F(key) for key in keys)), Row(*(Value(value) for value in values))
    return LessThan(columns, cursor) if older else GreaterThan(columns, cursor)


def cursor_page(queryset: QuerySet, params, size: int) -> CursorPage:
    """The page of ``queryset`` (ordered by descending keys, the last one unique) that ``params`` points at:
    ``after=<cursor>`` the items after an item, ``before=<cursor>`` the items before it, neither the first page."""
    keys = _descending_keys(queryset)
    after, before = params.get("after"), params.get("before")
    if after and before:
        raise Http404("A page link has either an after or a before cursor, not both.")
    if before:
        rows = list(queryset.filter(_past(keys, _decode(before, queryset, keys), older=False)).reverse()[: size + 1])
        has_newer, items = len(rows) > size, rows[:size][::-1]
        has_older = bool(items) and queryset.filter(_past(keys, _key(items[-1], keys), older=True)).exists()
    else:
        start = queryset.filter(_past(keys, _decode(after, queryset, keys), older=True)) if after else queryset
        rows = list(start[: size + 1])
        has_older, items = len(rows) > size, rows[:size]
        has_newer = bool(after and items) and queryset.filter(_past(keys, _key(items[0], keys), older=False)).exists()
    return CursorPage(
        object_list=items,
        newer=_encode(items[0], keys) if has_newer else None,
        older=_encode(items[-1], keys) if has_older else None,
    )


def cursor_of(item, queryset: QuerySet) -> str:
    """The ``after`` cursor of ``item`` in ``queryset``: the link to the page that starts just after it."""
    return _encode(item, _descending_keys(queryset))


def _key(item, keys: list[str]) -> list:
    return [getattr(item, key) for key in keys]
