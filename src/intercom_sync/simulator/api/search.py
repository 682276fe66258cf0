"""The search endpoints' query grammar, its evaluation, and cursor paging over a search view.

Grammar (as Intercom documents it): a query is a single filter `{field,
operator, value}` or a group `{operator: AND|OR, value: [...]}`; groups nest
at most two levels deep and hold at most 15 filters each. Anything else is a
400, as is an unknown field, an operator the field's type does not support, or
a value of the wrong type.

Evaluation compiles a query once into a predicate. When the query bounds
`updated_at` (itself, or as a direct child of a top-level AND), the bound is
lifted out of the predicate so paging can start by bisection in the search
view and stop at the upper bound, instead of scanning everything. Likewise a
`tag_id`/`segment_id` `=` filter there names the few records that can match
(`CompiledQuery.candidates`): when they are a small part of the view, paging
and counting visit only them.

Contact search can compare dates by calendar day in the workspace time zone
(Intercom's documented behaviour): `>` X matches from the start of the day
after X's day, `<` X before the start of X's day, `=` X the whole day, and
other operators on dates are rejected.
"""

from __future__ import annotations

import bisect
import itertools
from collections import OrderedDict
from collections.abc import Callable, Collection, Hashable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any, Literal, Protocol
from zoneinfo import ZoneInfo

from intercom_sync.simulator.api import cursors
from intercom_sync.simulator.api.errors import bad_request
from intercom_sync.simulator.api.search_fields import (
    FieldType,
    MembershipLookup,
    Record,
    SearchField,
    custom_attribute_field,
)

OPERATORS = ("=", "!=", "IN", "NIN", "<", "<=", ">", ">=", "~", "!~", "^", "$")
MAX_NESTING = 2
MAX_FILTERS_PER_GROUP = 15
MAX_PER_PAGE = 150
SORTABLE_FIELDS = ("updated_at",)
# Sorts after every real id, so (t, ID_CEILING) is the last key of second t.
ID_CEILING = "\U0010ffff"

_OPERATORS_BY_TYPE: dict[FieldType, frozenset[str]] = {
    "string": frozenset(("=", "!=", "IN", "NIN", "~", "!~", "^", "$")),
    "integer": frozenset(("=", "!=", "IN", "NIN", "<", "<=", ">", ">=")),
    "date": frozenset(("=", "!=", "IN", "NIN", "<", "<=", ">", ">=")),
    "boolean": frozenset(("=", "!=", "IN", "NIN")),
}
_DAY_GRANULAR_DATE_OPERATORS = frozenset(("=", "<", ">"))
# The descriptions allow only `=`/`!=` on `tag_id`; `segment_id` gets the same rule: both
# are memberships, and nothing documents IN, NIN or text matching on either.
_EQUALITY_ONLY_FIELDS = frozenset(("tag_id", "segment_id"))

Predicate = Callable[[Record], bool]
Order = Literal["ascending", "descending"]


class SearchView(Protocol):
    """What the world's search index offers (records ordered by `(updated_at, id)`)."""

    def __len__(self) -> int: ...

    def ascending(self, after: tuple[int, str] | None = None) -> Iterator[Record]: ...

    def descending(self, before: tuple[int, str] | None = None) -> Iterator[Record]: ...

    def natural(self) -> Iterator[Record]: ...


@dataclass(frozen=True)
class SearchOptions:
    """How one search endpoint behaves."""

    kind: str
    fields: dict[str, SearchField]
    default_per_page: int = 20
    # Compare dates by calendar day in this zone (contacts, when the quirk is on).
    day_zone: ZoneInfo | None = None
    custom_attributes: bool = False
    # Memberships as this search sees them (set per request for contact search).
    memberships: MembershipLookup | None = None


@dataclass(frozen=True)
class SearchRequest:
    query: Any
    per_page: int
    starting_after: str | None
    order: Order | None  # None: natural (unsorted) order


@dataclass(frozen=True)
class CompiledQuery:
    """A query ready to run: `updated_at` bounds (inclusive) plus the rest as a predicate."""

    low: int | None
    high: int | None
    residual: Predicate | None
    fingerprint: str
    # Ids outside which nothing matches (None: any record may).
    candidates: Collection[str] | None = None

    def matches(self, record: Record) -> bool:
        updated_at = record["updated_at"]
        if self.low is not None and updated_at < self.low:
            return False
        if self.high is not None and updated_at > self.high:
            return False
        return self.residual is None or self.residual(record)


@dataclass(frozen=True)
class SearchPage:
    records: list[Record]
    total_count: int
    page: int
    per_page: int
    next_cursor: str | None

    @property
    def total_pages(self) -> int:
        return -(-self.total_count // self.per_page)


# --- request parsing -------------------------------------------------------------------------


def parse_request(body: Any, default_per_page: int) -> SearchRequest:
    """Validate a search body's envelope (query presence, pagination, sort)."""
    if not isinstance(body, dict):
        raise bad_request("the request body must be a JSON object")
    if "query" not in body or not isinstance(body["query"], dict):
        raise bad_request("query is a required parameter", code="parameter_not_found")
    per_page, starting_after = _parse_pagination(body.get("pagination"), default_per_page)
    return SearchRequest(body["query"], per_page, starting_after, _parse_sort(body.get("sort")))


def _parse_pagination(pagination: Any, default_per_page: int) -> tuple[int, str | None]:
    if pagination is None:
        return default_per_page, None
    if not isinstance(pagination, dict):
        raise bad_request("pagination must be an object")
    per_page = pagination.get("per_page", default_per_page)
    if per_page is None:
        per_page = default_per_page
    if not isinstance(per_page, int) or isinstance(per_page, bool) or per_page < 1:
        raise bad_request("per_page must be a positive integer")
    if per_page > MAX_PER_PAGE:
        raise bad_request(f"per_page must be at most {MAX_PER_PAGE}")
    starting_after = pagination.get("starting_after")
    if starting_after is not None and not isinstance(starting_after, str):
        raise bad_request("starting_after is not a valid cursor")
    return per_page, starting_after or None


def _parse_sort(sort: Any) -> Order | None:
    if sort is None:
        return None
    if not isinstance(sort, dict):
        raise bad_request("sort must be an object with field and order")
    field = sort.get("field")
    if field not in SORTABLE_FIELDS:
        raise bad_request(f"sorting is supported on {', '.join(SORTABLE_FIELDS)} (got {field!r})")
    order = sort.get("order", "descending")
    if order not in ("ascending", "descending"):
        raise bad_request(f"sort order must be ascending or descending (got {order!r})")
    return "ascending" if order == "ascending" else "descending"


# --- grammar and compilation ------------------------------------------------------------------


def compile_query(query: Any, options: SearchOptions, order: Order | None = None) -> CompiledQuery:
    """Validate `query` against the grammar and the kind's fields, and compile it."""
    _check_shape(query, depth=0)
    fingerprint = cursors.fingerprint(options.kind, query, order)
    low, high, rest = _lift_updated_at_bounds(query, options)
    residual = _combine("AND", [_compile_node(node, options) for node in rest]) if rest else None
    return CompiledQuery(low, high, residual, fingerprint, _candidates(rest, options))


def _candidates(rest: list[dict[str, Any]], options: SearchOptions) -> Collection[str] | None:
    """The members of the smallest group an ANDed `tag_id`/`segment_id` `=` filter names
    (already validated by `_compile_node`)."""
    lookup = options.memberships
    if lookup is None:
        return None
    best: Collection[str] | None = None
    for node in rest:
        name = node.get("field")
        field = options.fields.get(name) if isinstance(name, str) else None
        if field is None or field.membership is None or node.get("operator") != "=":
            continue
        members = lookup.candidates(field.membership, str(node["value"]))
        if members is not None and (best is None or len(members) < len(best)):
            best = members
    return best


def _check_shape(node: Any, depth: int) -> int:
    """Check nesting and group sizes; return the node's nesting depth."""
    if not isinstance(node, dict):
        raise bad_request("each filter must be an object")
    if "field" in node:
        return 0
    operator, children = node.get("operator"), node.get("value")
    if operator not in ("AND", "OR") or not isinstance(children, list):
        raise bad_request("a filter needs field, operator and value; a group needs AND or OR")
    if not children:
        raise bad_request(f"an {operator} group needs at least one filter")
    if len(children) > MAX_FILTERS_PER_GROUP:
        raise bad_request(
            f"a query allows at most {MAX_FILTERS_PER_GROUP} filters per AND or OR group"
        )
    nested = 1 + max(_check_shape(child, depth + 1) for child in children)
    if depth == 0 and nested > MAX_NESTING:
        raise bad_request(f"a query allows at most {MAX_NESTING} levels of nested filters")
    return nested


def _compile_node(node: dict[str, Any], options: SearchOptions) -> Predicate:
    if "field" in node:
        return _compile_filter(node, options)
    return _combine(node["operator"], [_compile_node(child, options) for child in node["value"]])


def _combine(operator: str, predicates: Sequence[Predicate]) -> Predicate:
    if len(predicates) == 1:
        return predicates[0]
    if operator == "AND":
        return lambda record: all(predicate(record) for predicate in predicates)
    return lambda record: any(predicate(record) for predicate in predicates)


def _resolve_field(name: Any, options: SearchOptions) -> SearchField:
    if isinstance(name, str):
        if name in options.fields:
            return options.fields[name]
        custom = custom_attribute_field(name) if options.custom_attributes else None
        if custom is not None:
            return custom
    raise bad_request(f"{name!r} is not a searchable field of {options.kind}")


def _check_operator(field: SearchField, operator: Any, options: SearchOptions) -> str:
    if operator not in OPERATORS:
        raise bad_request(f"{operator!r} is not a search operator")
    allowed = _OPERATORS_BY_TYPE[field.type]
    if field.type == "date" and options.day_zone is not None:
        allowed = _DAY_GRANULAR_DATE_OPERATORS
    if field.name in _EQUALITY_ONLY_FIELDS:
        allowed = frozenset(("=", "!="))
    if operator not in allowed:
        raise bad_request(f"operator {operator} is not supported on {field.name} ({field.type})")
    return str(operator)


def _compile_filter(node: dict[str, Any], options: SearchOptions) -> Predicate:
    field = _resolve_field(node.get("field"), options)
    operator = _check_operator(field, node.get("operator"), options)
    value = _coerce_value(field, operator, node.get("value"))
    if field.membership is not None:
        return _membership_predicate(field, operator, value, options.memberships)
    if field.type == "date" and options.day_zone is not None:
        assert isinstance(value, int)
        return _day_granular(field, operator, value, options.day_zone)
    return _scalar_predicate(field, operator, value)


def _membership_predicate(
    field: SearchField, operator: str, value: Any, memberships: MembershipLookup | None
) -> Predicate:
    """`tag_id`/`segment_id` `=` or `!=` an id: in (or not in) that tag or segment."""
    if value is None:
        raise bad_request(f"{field.name} needs an id to compare with")
    if memberships is None or field.membership is None:
        return _scalar_predicate(field, operator, value)
    member = memberships.predicate(field.membership, str(value))
    if operator == "=":
        return member
    return lambda record: not member(record)


# --- values ----------------------------------------------------------------------------------


def _coerce_value(field: SearchField, operator: str, value: Any) -> Any:
    if operator in ("IN", "NIN"):
        if not isinstance(value, list) or not value:
            raise bad_request(f"{operator} needs a non-empty array value for {field.name}")
        return frozenset(_coerce_scalar(field, item) for item in value)
    if isinstance(value, list):
        raise bad_request(f"operator {operator} needs a single value for {field.name}")
    if value is None:
        if operator not in ("=", "!="):
            raise bad_request(f"operator {operator} needs a value for {field.name}")
        return None
    return _coerce_scalar(field, value)


def _coerce_scalar(field: SearchField, value: Any) -> Any:
    if field.type in ("integer", "date"):
        number = _as_int(value)
        if number is None:
            raise bad_request(f"{field.name} needs an integer value (got {value!r})")
        return number
    if field.type == "boolean":
        if isinstance(value, bool):
            return value
        if value in ("true", "false"):
            return value == "true"
        raise bad_request(f"{field.name} needs a boolean value (got {value!r})")
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise bad_request(f"{field.name} needs a string value (got {value!r})")
    return str(value)


def _as_int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        text = value.strip()
        if text.lstrip("-").isdigit():
            return int(text)
    return None


def _values(raw: Any) -> list[Any]:
    if raw is None:
        return []
    return raw if isinstance(raw, list) else [raw]


def _scalar_predicate(field: SearchField, operator: str, value: Any) -> Predicate:
    get = field.get
    if field.type == "string":
        test = _string_test(operator, value)
        return lambda record: test([str(item) for item in _values(get(record))])
    test = _ordered_test(operator, value)
    return lambda record: test(_values(get(record)))


def _string_test(operator: str, value: Any) -> Callable[[list[str]], bool]:
    if operator in ("=", "!=", "IN", "NIN"):
        return _membership_test(operator, value)
    needle = str(value).lower()
    tests: dict[str, Callable[[str], bool]] = {
        "~": lambda item: needle in item.lower(),
        "!~": lambda item: needle in item.lower(),
        "^": lambda item: item.lower().startswith(needle),
        "$": lambda item: item.lower().endswith(needle),
    }
    test = tests[operator]
    if operator == "!~":
        return lambda items: not any(test(item) for item in items)
    return lambda items: any(test(item) for item in items)


def _membership_test(operator: str, value: Any) -> Callable[[list[Any]], bool]:
    if value is None:  # `= null` matches an absent value, `!= null` a present one
        return (lambda items: not items) if operator == "=" else (lambda items: bool(items))
    wanted = value if isinstance(value, frozenset) else frozenset((value,))
    if operator in ("=", "IN"):
        return lambda items: any(item in wanted for item in items)
    return lambda items: not any(item in wanted for item in items)


def _ordered_test(operator: str, value: Any) -> Callable[[list[Any]], bool]:
    if operator in ("=", "!=", "IN", "NIN"):
        return _membership_test(operator, value)
    compare: dict[str, Callable[[Any], bool]] = {
        "<": lambda item: item < value,
        "<=": lambda item: item <= value,
        ">": lambda item: item > value,
        ">=": lambda item: item >= value,
    }
    test = compare[operator]
    return lambda items: any(item is not None and test(item) for item in items)


# --- calendar-day dates -------------------------------------------------------------------------


@lru_cache(maxsize=4096)
def _local_day(timestamp: int, zone: ZoneInfo) -> tuple[int, int]:
    """[start, end) of the calendar day in `zone` that contains `timestamp` (Unix seconds)."""
    local = datetime.fromtimestamp(timestamp, zone)
    start = local.replace(hour=0, minute=0, second=0, microsecond=0)
    following = (start + timedelta(days=1)).replace(tzinfo=None)
    end = following.replace(tzinfo=zone)
    return int(start.timestamp()), int(end.timestamp())


def day_granular_range(operator: str, value: int, zone: ZoneInfo) -> tuple[int | None, int | None]:
    """The inclusive `[low, high]` a day-granular date filter matches (None = unbounded)."""
    start, end = _local_day(value, zone)
    if operator == ">":
        return end, None
    if operator == "<":
        return None, start - 1
    return start, end - 1


def _day_granular(field: SearchField, operator: str, value: int, zone: ZoneInfo) -> Predicate:
    low, high = day_granular_range(operator, value, zone)
    get = field.get

    def matches(record: Record) -> bool:
        stamp = get(record)
        if not isinstance(stamp, int):
            return False
        return (low is None or stamp >= low) and (high is None or stamp <= high)

    return matches


# --- updated_at bounds --------------------------------------------------------------------------


def _lift_updated_at_bounds(
    query: dict[str, Any], options: SearchOptions
) -> tuple[int | None, int | None, list[dict[str, Any]]]:
    """Split a query into inclusive `updated_at` bounds and the filters that remain."""
    if "field" in query:
        candidates = [query]
    elif query["operator"] == "AND":
        candidates = list(query["value"])
    else:
        return None, None, [query]
    low: int | None = None
    high: int | None = None
    rest: list[dict[str, Any]] = []
    for node in candidates:
        bound = _as_bound(node, options)
        if bound is None:
            rest.append(node)
            continue
        low = bound[0] if low is None else max(low, bound[0]) if bound[0] is not None else low
        high = bound[1] if high is None else min(high, bound[1]) if bound[1] is not None else high
    return low, high, rest


def _as_bound(node: dict[str, Any], options: SearchOptions) -> tuple[int | None, int | None] | None:
    if node.get("field") != "updated_at" or "updated_at" not in options.fields:
        return None
    field = options.fields["updated_at"]
    operator = _check_operator(field, node.get("operator"), options)
    value = _coerce_value(field, operator, node.get("value"))
    if not isinstance(value, int):
        return None
    if options.day_zone is not None:
        return day_granular_range(operator, value, options.day_zone)
    ranges: dict[str, tuple[int | None, int | None]] = {
        ">": (value + 1, None),
        ">=": (value, None),
        "<": (None, value - 1),
        "<=": (None, value),
        "=": (value, value),
    }
    return ranges.get(operator)


# --- paging --------------------------------------------------------------------------------------


def search_page(
    view: SearchView,
    compiled: CompiledQuery,
    request: SearchRequest,
    total_count: int,
    *,
    positional: bool = False,
) -> SearchPage:
    """One page of results, computed against `view` as it is now.

    `positional`: a sorted search's next cursor is an offset into the result set as it will
    be when that page is asked for (records that leave or join it shift the rest), rather
    than the last `(updated_at, id)` returned."""
    cursor = (
        cursors.decode(request.starting_after, compiled.fingerprint)
        if request.starting_after
        else None
    )
    page = cursor.page if cursor else 1
    if request.order is None:
        records, next_cursor = _natural_page(view, compiled, request.per_page, cursor, page)
    else:
        records, next_cursor = _sorted_page(view, compiled, request, cursor, page, positional)
    return SearchPage(records, total_count, page, request.per_page, next_cursor)


def _sorted_page(
    view: SearchView,
    compiled: CompiledQuery,
    request: SearchRequest,
    cursor: cursors.Cursor | None,
    page: int,
    positional: bool,
) -> tuple[list[Record], str | None]:
    position = cursor.key if cursor else None
    skip = cursor.offset or 0 if cursor and cursor.key is None else 0
    few = _few_candidates(view, compiled)
    if few is not None:
        candidates = _sorted_few(few, request.order == "ascending", position)
    elif request.order == "ascending":
        candidates = _ascending(view, compiled, position)
    else:
        candidates = _descending(view, compiled, position)
    matches = list(itertools.islice(candidates, skip, skip + request.per_page + 1))
    records = matches[: request.per_page]
    if len(matches) <= request.per_page:
        return records, None
    if positional:
        following = cursors.Cursor(compiled.fingerprint, page + 1, offset=skip + len(records))
        return records, cursors.encode(following)
    last = records[-1]
    key = (int(last["updated_at"]), str(last["id"]))
    return records, cursors.encode(cursors.Cursor(compiled.fingerprint, page + 1, key=key))


def _ascending(
    view: SearchView, compiled: CompiledQuery, after: tuple[int, str] | None
) -> Iterator[Record]:
    if compiled.low is not None:
        floor = (compiled.low - 1, ID_CEILING)
        after = floor if after is None else max(after, floor)
    residual, high = compiled.residual, compiled.high
    for record in view.ascending(after=after):
        if high is not None and record["updated_at"] > high:
            return
        if residual is None or residual(record):
            yield record


def _descending(
    view: SearchView, compiled: CompiledQuery, before: tuple[int, str] | None
) -> Iterator[Record]:
    if compiled.high is not None:
        ceiling = (compiled.high + 1, "")
        before = ceiling if before is None else min(before, ceiling)
    residual, low = compiled.residual, compiled.low
    for record in view.descending(before=before):
        if low is not None and record["updated_at"] < low:
            return
        if residual is None or residual(record):
            yield record


def _natural_page(
    view: SearchView,
    compiled: CompiledQuery,
    per_page: int,
    cursor: cursors.Cursor | None,
    page: int,
) -> tuple[list[Record], str | None]:
    offset = cursor.offset or 0 if cursor else 0
    records: list[Record] = []
    for position, record in _natural_candidates(view, compiled, offset):
        if not compiled.matches(record):
            continue
        if len(records) == per_page:
            next_cursor = cursors.Cursor(compiled.fingerprint, page + 1, offset=position)
            return records, cursors.encode(next_cursor)
        records.append(record)
    return records, None


def _natural_candidates(
    view: SearchView, compiled: CompiledQuery, start: int
) -> Iterator[tuple[int, Record]]:
    """(position, record) from `start` in natural order: only the candidates when few."""
    positions, items_at = getattr(view, "positions", None), getattr(view, "items_at", None)
    if positions is None or items_at is None or not _are_few(view, compiled):
        return _natural_items(view, start)
    at: list[int] = positions(compiled.candidates)
    items: Iterator[tuple[int, Record]] = items_at(at[bisect.bisect_left(at, start) :])
    return items


# Visit only the candidates when they are at most this share of the view.
_FEW = 0.25


def _are_few(view: SearchView, compiled: CompiledQuery) -> bool:
    return compiled.candidates is not None and len(compiled.candidates) <= _FEW * len(view)


def _few_candidates(view: SearchView, compiled: CompiledQuery) -> list[Record] | None:
    """The matching candidates as `view` shows them, when they are few (else None)."""
    get = getattr(view, "get", None)
    if compiled.candidates is None or get is None or not _are_few(view, compiled):
        return None
    found = (get(record_id) for record_id in compiled.candidates)
    return [record for record in found if record is not None and compiled.matches(record)]


def _sorted_few(
    records: list[Record], ascending: bool, position: tuple[int, str] | None
) -> Iterator[Record]:
    """`records` in `(updated_at, id)` order, strictly after (or before) `position`."""
    ordered = sorted(records, key=lambda r: (r["updated_at"], r["id"]), reverse=not ascending)
    for record in ordered:
        key = (record["updated_at"], record["id"])
        if position is None or (key > position if ascending else key < position):
            yield record


def _natural_items(view: SearchView, start: int) -> Iterator[tuple[int, Record]]:
    """(position, record) in natural order from `start`. A view that keeps stable positions
    (`natural_items`, where deletions leave gaps) resumes in O(1); otherwise skip ahead."""
    stable = getattr(view, "natural_items", None)
    if stable is not None:
        items: Iterator[tuple[int, Record]] = stable(start)
        return items
    return enumerate(itertools.islice(view.natural(), start, None), start)


def count_matches(view: SearchView, compiled: CompiledQuery) -> int:
    """How many records of `view` match: the response's `total_count`."""
    if compiled.residual is None and compiled.low is None and compiled.high is None:
        return len(view)
    few = _few_candidates(view, compiled)
    if few is not None:
        return len(few)
    return sum(1 for _ in _ascending(view, compiled, None))


class TotalCountCache:
    """Remembers `total_count` per (query, index state), so paging a large result set
    counts it once instead of once per page. The caller's key must change whenever the
    view's content can have changed (world generation and `as_of` second)."""

    def __init__(self, size: int = 256) -> None:
        self._size = size
        self._entries: OrderedDict[tuple[str, Hashable], int] = OrderedDict()

    def get(self, view: SearchView, compiled: CompiledQuery, state: Hashable) -> int:
        key = (compiled.fingerprint, state)
        if key in self._entries:
            self._entries.move_to_end(key)
            return self._entries[key]
        total = count_matches(view, compiled)
        self._entries[key] = total
        if len(self._entries) > self._size:
            self._entries.popitem(last=False)
        return total
