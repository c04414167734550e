"""The tenancy scan: every route that takes an object id, generated from the URL resolver (API
and web pages alike), is called for every HTTP method with the ids of real objects of
organization A, as organization B (its API key, then its signed-in owner's web session). Each
answer must be exactly the answer to a missing id: same status, same body once the id itself
is blanked out. A new route is scanned without anyone writing a test; a route whose id the
scan cannot build an object for fails `test_every_id_route_is_scanned` until OBJECTS (or, for
a route that takes no tenant object, NOT_TENANT_OBJECTS) says what it takes."""

import re
import secrets
from dataclasses import dataclass

import pytest
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone

from tests.conftest import key_client, make_user, signed_in
from tests.datasets import chat_jsonl
from tests.files.helpers import upload_and_inspect

pytestmark = [pytest.mark.tenancy_scan]

METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
PARAMETER = re.compile(r"<(?:(?P<converter>\w+):)?(?P<name>\w+)>")

# Routes whose ids are not an organization's objects, by prefix, each with why:
NOT_TENANT_OBJECTS = {
    # Operators' Django admin: staff see every organization by design; a member is sent to its login.
    "admin/": "staff only",
    # django-allauth: e-mail confirmation and password reset keys belong to a person, not an organization.
    "accounts/": "a person's account tokens",
    # The invitation link is a capability sent to one address; who may accept it is
    # tests/orgs/test_invitations.py's matter (bound to the invited address).
    "invitations/<str:token>": "an invitation token, opened by someone outside the organization by design",
}


@dataclass(frozen=True)
class Route:
    template: str  # e.g. "v1/files/<str:file_id>/content"
    parameters: tuple[str, ...]
    defaults: tuple  # a pattern's extra kwargs, e.g. {"action": "cancel"}, as items

    @property
    def is_api(self) -> bool:
        return self.template.startswith("v1/")

    def url(self, **ids) -> str:
        return "/" + PARAMETER.sub(lambda m: ids[m["name"]], self.template)


def routes(resolver=None, prefix="") -> list[Route]:
    """Every concrete route of the project, with the names of its path parameters."""
    found = []
    for pattern in (resolver or get_resolver()).url_patterns:
        template = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            found += routes(pattern, template)
        elif isinstance(pattern, URLPattern):
            names = tuple(m["name"] for m in PARAMETER.finditer(template))
            found.append(Route(template, names, tuple(sorted((pattern.default_args or {}).items()))))
    return found


def allow_listed(route: Route) -> bool:
    return any(route.template.startswith(prefix) for prefix in NOT_TENANT_OBJECTS)


def id_routes() -> list[Route]:
    return [r for r in routes() if r.parameters and not allow_listed(r)]


# What each path parameter names: a function from organization A's objects to one real id.
OBJECTS = {
    "file_id": lambda a: a["file"].public_id,
    "job_id": lambda a: a["job"].public_id,
    "evaluation_id": lambda a: a["evaluation"].public_id,
    "key_id": lambda a: a["api_key"].public_id,
    "payment_id": lambda a: a["payment"].public_id,
    "invitation_id": lambda a: a["invitation"].public_id,
    "member_id": lambda a: a["member"].public_id,
    # A fine-tuned model's name; the checkpoint's name is scanned on the same route below.
    "model_id": lambda a: a["job"].fine_tuned_model,
}
# Further real ids scanned on routes with this parameter (the checkpoint of the job).
MORE_OBJECTS = {"model_id": lambda a: [a["checkpoint"].model_name]}


def test_every_id_route_is_scanned():
    unknown = [
        f"{route.template}: no object of organization A for <{name}>"
        for route in id_routes()
        for name in route.parameters
        if name not in OBJECTS
    ]
    assert not unknown, (
        "The tenancy scan cannot build an object for these routes; add the kind to OBJECTS in "
        "tests/api/test_tenancy_scan.py (or, if the id is no organization's object, to NOT_TENANT_OBJECTS "
        "with the reason):\n" + "\n".join(unknown)
    )


def test_the_scan_finds_the_routes_it_is_meant_to():
    templates = {route.template for route in id_routes()}
    assert {"v1/files/<str:file_id>", "fine-tuning/<str:job_id>/cancel", "v1/models/<path:model_id>"} <= templates
    assert len(templates) >= 30


@pytest.fixture
def objects_a(org_a, member_a, embedded_base, api_a):
    """One object of each kind a route takes an id of, all of organization A."""
    from tunery.apikeys.models import ApiKey
    from tunery.billing.models import Payment, PaymentStatus
    from tunery.evaluations.models import EvaluationRun
    from tunery.jobs.models import Checkpoint, FineTuningJob, JobStatus
    from tunery.orgs.models import Invitation

    file = upload_and_inspect(api_a, "train.jsonl", chat_jsonl(12))
    job = FineTuningJob.objects.create(
        organization=org_a,
        base_model=embedded_base,
        model=embedded_base.name,
        training_file=file,
        suffix="scan",
        seed=1,
        hyperparameters={},
    )
    job.status, job.finished_at = JobStatus.SUCCEEDED, timezone.now()
    job.fine_tuned_model = job.model_name
    job.save()
    another_user = make_user("invited@elsewhere.test")
    return {
        "file": file,
        "job": job,
        "checkpoint": Checkpoint.objects.create(job=job, step=3, epoch=1.0, path="/nonexistent"),
        "evaluation": EvaluationRun.objects.create(
            organization=org_a,
            model_names=[embedded_base.name],
            base_model=embedded_base,
            max_examples=5,
            test_file=file,
        ),
        "api_key": ApiKey.issue(org_a, name="scanned", scopes=["read"])[0],
        "payment": Payment.objects.create(
            organization=org_a, stripe_payment_intent_id="pi_scan", amount="5.00", status=PaymentStatus.REQUIRES_ACTION
        ),
        "invitation": Invitation.objects.create(organization=org_a, email=another_user.email),
        "member": member_a.memberships.get(organization=org_a),
    }


def missing_like(real: str) -> str:
    """An id of the same shape that names nothing: its random tail replaced."""
    return real[:-6] + secrets.token_hex(3)


# Django's masked CSRF token (64 letters and digits) differs on every page it is rendered into.
CSRF_TOKEN = re.compile(r"\b[A-Za-z0-9]{64}\b")


def answer(client, method: str, url: str, is_api: bool, *ids: str) -> tuple[int, str]:
    """(status, body with the ids and per-request tokens blanked)."""
    kwargs = {"data": "{}", "content_type": "application/json"} if is_api and method in ("POST", "PUT", "PATCH") else {}
    response = client.generic(method, url, **kwargs)
    body = b"".join(response.streaming_content) if response.streaming else response.content
    text = body.decode(errors="replace") + " location=" + response.get("Location", "")
    for object_id in ids:
        text = text.replace(object_id, "<ID>")
    return response.status_code, CSRF_TOKEN.sub("<TOKEN>", text)


def difference(foreign: tuple[int, str], missing: tuple[int, str]) -> str:
    if foreign[0] != missing[0]:
        return f"status {foreign[0]} for the foreign id, {missing[0]} for a missing one: {foreign[1][:300]!r}"
    if foreign[0] >= 500:
        return f"a server error ({foreign[0]}) for both"
    at = next(i for i, (x, y) in enumerate(zip(foreign[1] + "\0", missing[1] + "\1")) if x != y)
    return f"bodies differ: foreign …{foreign[1][at - 80 : at + 80]!r}… missing …{missing[1][at - 80 : at + 80]!r}…"


@pytest.fixture(params=["api_key", "web_session"])
def outsider(request, org_b, outsider_b, client):
    """Organization B as its API key, or as its owner signed in on the web."""
    if request.param == "api_key":
        api = key_client(org_b)
        api.raise_request_exception = False
        return api
    client.raise_request_exception = False
    return signed_in(client, outsider_b)


def scan(client, objects: dict) -> tuple[list[str], int]:
    """Every id route and method, with `client`: (what answered unlike a missing id, calls made)."""
    differences, calls = [], 0
    for route in id_routes():
        reals = {name: OBJECTS[name](objects) for name in route.parameters}
        cases = [reals] + [
            {**reals, name: extra} for name in MORE_OBJECTS if name in reals for extra in MORE_OBJECTS[name](objects)
        ]
        for ids in cases:
            missing = {name: missing_like(value) for name, value in ids.items()}
            blanked = (*ids.values(), *missing.values())
            for method in METHODS:
                foreign = answer(client, method, route.url(**ids), route.is_api, *blanked)
                absent = answer(client, method, route.url(**missing), route.is_api, *blanked)
                calls += 1
                if foreign != absent or foreign[0] >= 500:
                    differences.append(f"{method} /{route.template} {ids}: {difference(foreign, absent)}")
    return differences, calls


def test_another_organization_gets_exactly_what_a_missing_id_gets(objects_a, outsider):
    differences, calls = scan(outsider, objects_a)
    assert calls >= len(id_routes()) * len(METHODS)
    assert not differences, "Another organization's object answered unlike a missing one:\n" + "\n".join(differences)


def test_the_scan_sees_an_object_the_caller_may_read(objects_a, org_a):
    """The scan run as organization A itself must tell A's objects from missing ones: it can fail."""
    own = key_client(org_a)
    own.raise_request_exception = False
    differences, _ = scan(own, objects_a)
    assert any(line.startswith("GET /v1/files/<str:file_id> ") for line in differences)
    assert any(line.startswith("GET /v1/fine_tuning/jobs/<str:job_id> ") for line in differences)
