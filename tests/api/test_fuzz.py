"""Schemathesis over every operation of /api/schema (drf-spectacular), as a real client of a
test organization: generated bodies, query strings and path ids, valid and invalid. Every
answer must be no 5xx and match the schema (status code, content type, body); where the schema
was wrong it was fixed (tunery/api/schema.py), not the check weakened.

The budget is fixed so CI time stays bounded on 2 cores: EXAMPLES generated cases per operation
(plus schemathesis's own explicit and boundary cases), derandomized so every run sends the same
requests and a failure reproduces; about 80 s for the 43 operations on 2 busy cores."""

import json

import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from tests.conftest import key_client
from tunery.wsgi import application

pytestmark = [pytest.mark.fuzz]

EXAMPLES = 12
# What the API promises: no server error, and answers as the schema documents them. (Business
# rules refuse many schema-valid bodies, e.g. a file id that does not exist, so schemathesis's
# positive_data_acceptance is not among them.)
CHECKS = [
    schemathesis.checks.not_a_server_error,
    schemathesis.checks.status_code_conformance,
    schemathesis.checks.content_type_conformance,
    schemathesis.checks.response_headers_conformance,
    schemathesis.checks.response_schema_conformance,
]


def served_schema() -> dict:
    """/api/schema as the app serves it, generated at collection (no request, no database)."""
    from drf_spectacular.generators import SchemaGenerator
    from drf_spectacular.renderers import OpenApiJsonRenderer

    return json.loads(OpenApiJsonRenderer().render(SchemaGenerator().get_schema(request=None, public=True)))


schema = schemathesis.openapi.from_dict(served_schema())
schema.app = application  # every request, the stateful ones too, goes to the app in this thread


@pytest.fixture
def fuzz_key(org_a):
    """A real API key of organization A with every scope (the fuzzer may revoke other keys)."""
    return key_client(org_a).secret


@pytest.fixture
def same_connection(db):
    """The app is called in this thread inside the test's transaction: as Django's test client
    does, requests must not close the database connection when they end."""
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_api_answers_every_generated_request_within_its_schema(case, fuzz_key, same_connection):
    case.call_and_validate(checks=CHECKS, headers={"Authorization": f"Bearer {fuzz_key}"})
