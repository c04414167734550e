"""Client errors are one log line; server errors keep their traceback."""

import io
import logging

import pytest

from tests.conftest import signed_in


@pytest.fixture
def console():
    """What the configured console handler (settings.LOGGING) writes."""
    handler = next(h for h in logging.getLogger().handlers if isinstance(h, logging.StreamHandler) and h.filters)
    buffer = io.StringIO()
    previous = handler.setStream(buffer)
    yield buffer
    handler.setStream(previous)


def test_a_refused_page_is_one_warning_line_without_a_traceback(client, viewer_a, console):
    response = signed_in(client, viewer_a).post(
        "/settings/organization/invite", {"email": "x@y.test", "role": "member"}
    )
    assert response.status_code == 403
    forbidden = [line for line in console.getvalue().splitlines() if "Forbidden" in line]
    assert len(forbidden) == 1 and '"status_code": 403' in forbidden[0] and "WARNING" in forbidden[0]
    assert "Traceback" not in console.getvalue() and "exc_info" not in console.getvalue()


def test_a_server_error_keeps_its_traceback(console):
    try:
        raise RuntimeError("a real bug")
    except RuntimeError:
        logging.getLogger("django.request").error(
            "Internal Server Error: /x", exc_info=True, extra={"status_code": 500}
        )
    assert "Traceback" in console.getvalue() and "a real bug" in console.getvalue()
