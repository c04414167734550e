"""Every page carries a Content-Security-Policy that allows only our own scripts and styles,
and no template needs more (an inline script or stylesheet would be refused by browsers)."""

import re
from pathlib import Path

import pytest

from tests.conftest import signed_in

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"


def policy(response) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]
    return {name: values for name, *values in (part.split() for part in header.split(";") if part.strip())}


@pytest.mark.parametrize("path", ["/", "/datasets", "/fine-tuning", "/billing", "/playground", "/accounts/login/"])
def test_pages_allow_only_our_own_scripts_and_styles(client, owner_a, path):
    if path != "/accounts/login/":
        signed_in(client, owner_a)
    directives = policy(client.get(path))
    assert directives["script-src"] == ["'self'"]
    assert directives["style-src-elem"] == ["'self'"] and directives["style-src"] == ["'self'"]
    assert directives["frame-ancestors"] == ["'none'"] and directives["object-src"] == ["'none'"]


def test_api_responses_carry_it_too(api_a):
    assert policy(api_a.get("/v1/files"))["default-src"] == ["'self'"]


def test_templates_have_no_inline_scripts_or_stylesheets():
    inline = []
    for template in TEMPLATES.rglob("*.html"):
        text = template.read_text()
        for tag in re.findall(r"<script\b[^>]*>", text):
            if "src=" not in tag and "application/json" not in tag:
                inline.append(f"{template.relative_to(TEMPLATES)}: {tag}")
        inline += [f"{template.relative_to(TEMPLATES)}: <style>" for _ in re.findall(r"<style\b", text)]
        inline += [f"{template.relative_to(TEMPLATES)}: {m}" for m in re.findall(r"\son[a-z]+=", text)]
    assert not inline


def test_the_billing_page_with_stripe_allows_stripe_js(client, owner_a, settings):
    settings.STRIPE_SECRET_KEY = "sk_test_tunery"
    settings.STRIPE_JS_URL = stripe_origin = "http://127.0.0.1:9"  # as the tests point it at localstripe
    settings.STRIPE_JS_URL += "/js.stripe.com/v3/"
    directives = policy(signed_in(client, owner_a).get("/billing"))
    assert directives["script-src"] == ["'self'", stripe_origin]
    assert stripe_origin in directives["frame-src"] and stripe_origin in directives["connect-src"]


def test_api_docs_load_their_script_from_a_url(client):
    page = client.get("/api/docs")
    html = page.content.decode()
    assert page.status_code == 200 and "<script>" not in html
    directives = policy(page)
    assert directives["script-src"] == ["'self'"] and "'unsafe-inline'" in directives["style-src-elem"]
    script = client.get("/api/docs?script=")
    assert script.status_code == 200 and "SwaggerUIBundle" in script.content.decode()
