"""OpenAI's cursor pagination: `?after=<id>&limit=N` → {"object": "list", "data", "has_more"}."""

from rest_framework.response import Response

from tunery.api.errors import ApiError

DEFAULT_LIMIT = 20
MAX_LIMIT = 100


def page_limit(request) -> int:
    raw = request.query_params.get("limit", DEFAULT_LIMIT)
    try:
        limit = int(raw)
    except (TypeError, ValueError):
        raise ApiError(f"limit must be an integer, got {raw!r}.", param="limit", code="invalid_value")
    if not 1 <= limit <= MAX_LIMIT:
        raise ApiError(f"limit must be between 1 and {MAX_LIMIT}.", param="limit", code="invalid_value")
    return limit


def cursor_page(request, queryset, serialize, *, order: str = "-created_at", prepare=None) -> Response:
    """Newest first; `after` is the public id of the last item the client has seen. `prepare`,
    if given, is called with the page's rows before they are serialized (to fetch what they
    refer to in one query)."""
    limit = page_limit(request)
    queryset = queryset.order_by(order, "-pk")
    after = request.query_params.get("after")
    if after:
        anchor = queryset.filter(public_id=after).values("created_at", "pk").first()
        if anchor is None:
            raise ApiError(f"No such object to page after: {after}.", param="after", code="invalid_value")
        queryset = queryset.filter(created_at__lte=anchor["created_at"]).exclude(
            created_at=anchor["created_at"], pk__gte=anchor["pk"]
        )
    rows = list(queryset[: limit + 1])
    if prepare is not None:
        prepare(rows[:limit])
    data = [serialize(row) for row in rows[:limit]]
    return Response(
        {
            "object": "list",
            "data": data,
            "has_more": len(rows) > limit,
            "first_id": data[0]["id"] if data else None,
            "last_id": data[-1]["id"] if data else None,
        }
    )
