"""The ASGI body guard under a real uvicorn: refusals arrive from the headers alone, before the
client has sent the body it declared (Django's ASGI handler would read all of it first)."""

import http.client
import select
import socket
from urllib.parse import urlsplit

import httpx
import pytest

from tests.conftest import key_client, serve

MB = 1024 * 1024


@pytest.fixture
def web_url(transactional_db, settings):
    from tunery.asgi import application

    settings.TUNERY_MAX_UPLOAD_BYTES = 256 * 1024  # small, so that crossing it takes little time
    with serve(application) as url:
        yield url


def _connect(url: str) -> socket.socket:
    parts = urlsplit(url)
    return socket.create_connection((parts.hostname, parts.port), timeout=15)


def _head(path: str, headers: dict) -> bytes:
    lines = [f"POST {path} HTTP/1.1", "Host: 127.0.0.1", *(f"{name}: {value}" for name, value in headers.items())]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def _answer(sock: socket.socket) -> tuple[int, dict, dict]:
    response = http.client.HTTPResponse(sock)
    response.begin()  # times out (the test fails) if the server waits for the body
    return response.status, dict(response.getheaders()), httpx.Response(200, content=response.read()).json()


def declared_but_not_sent(url: str, path: str, length: int, **headers) -> tuple[int, dict, dict]:
    """Declare `length` bytes, send only the headers and 1 KiB, and read the answer."""
    with _connect(url) as sock:
        sock.sendall(
            _head(path, {"Content-Length": length, "Content-Type": "multipart/form-data; boundary=x", **headers})
        )
        sock.sendall(b"x" * 1024)
        return _answer(sock)


def test_unauthenticated_large_body_is_refused_before_it_is_sent(web_url):
    status, headers, body = declared_but_not_sent(web_url, "/v1/files", 200 * 1024)
    assert status == 401 and headers["www-authenticate"] == 'Bearer realm="api"'
    assert body["error"]["code"] == "not_authenticated"


def test_invalid_key_with_a_large_body_is_refused_before_it_is_sent(web_url):
    status, _, body = declared_but_not_sent(web_url, "/v1/files", 200 * 1024, Authorization="Bearer tun_nope")
    assert status == 401 and body["error"]["code"] == "invalid_api_key"


def test_upload_declared_over_the_limit_is_refused_before_it_is_sent(web_url, org_a):
    api = key_client(org_a)
    status, _, body = declared_but_not_sent(web_url, "/v1/files", 900 * MB, Authorization=f"Bearer {api.secret}")
    assert status == 413 and body["error"]["code"] == "file_too_large" and body["error"]["param"] == "file"
    assert "256.0\xa0KB upload limit" in body["error"]["message"]


def test_other_routes_are_held_to_the_json_body_limit(web_url, org_a):
    api = key_client(org_a)
    status, _, body = declared_but_not_sent(
        web_url, "/v1/fine_tuning/jobs", 20 * MB, Authorization=f"Bearer {api.secret}"
    )
    assert status == 413 and body["error"]["code"] == "request_too_large"


def test_web_upload_target_without_a_session_answers_json(web_url):
    status, _, body = declared_but_not_sent(web_url, "/datasets/upload", 200 * 1024)
    assert status == 401 and "not signed in" in body["error"]


def test_chunked_upload_is_cut_off_once_it_passes_the_limit(web_url, org_a):
    api = key_client(org_a)
    chunk = b"x" * (16 * 1024)
    sent = 0
    with _connect(web_url) as sock:
        sock.sendall(
            _head(
                "/v1/files",
                {
                    "Authorization": f"Bearer {api.secret}",
                    "Transfer-Encoding": "chunked",
                    "Content-Type": "multipart/form-data; boundary=x",
                },
            )
        )
        while not select.select([sock], [], [], 0.01)[0]:  # until the server answers
            assert sent < 8 * MB, "the server kept reading past the limit"
            sock.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            sent += len(chunk)
        status, _, body = _answer(sock)
    assert status == 413 and body["error"]["code"] == "file_too_large"
    assert sent < 2 * MB


def test_small_uploads_and_requests_pass_through(web_url, org_a):
    api = key_client(org_a)
    auth = {"Authorization": f"Bearer {api.secret}"}
    content = b'{"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}]}\n'
    response = httpx.post(
        f"{web_url}/v1/files",
        headers=auth,
        data={"purpose": "fine-tune"},
        files={"file": ("train.jsonl", content)},
        timeout=30,
    )
    assert response.status_code == 200, response.text
    # Over the credentials threshold, under the upload limit, with a valid key: Django decides.
    big = content * (100 * 1024 // len(content))
    response = httpx.post(
        f"{web_url}/v1/files", headers=auth, data={"purpose": "fine-tune"}, files={"file": ("big.jsonl", big)}
    )
    assert response.status_code == 200, response.text
    assert httpx.get(f"{web_url}/v1/files", headers=auth).json()["data"][0]["filename"] == "big.jsonl"
