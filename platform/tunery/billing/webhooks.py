"""Stripe's webhook: verified by signature, applied exactly once by event id (recorded in the
same transaction as its effect), harmless when replayed or delivered out of order."""

import json
import logging

import stripe
from django.conf import settings
from django.db import IntegrityError, transaction
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from tunery.billing.models import StripeEvent
from tunery.billing.payments import record_intent
from tunery.orgs.models import Organization

logger = logging.getLogger(__name__)

PAYMENT_INTENT_EVENTS = {
    "payment_intent.succeeded",
    "payment_intent.payment_failed",
    "payment_intent.processing",
    "payment_intent.requires_action",
    "payment_intent.canceled",
}


@csrf_exempt
@require_POST
def stripe_webhook(request: HttpRequest) -> JsonResponse:
    if not settings.STRIPE_WEBHOOK_SECRET:
        return JsonResponse({"error": "Stripe webhooks are not configured on this server."}, status=404)
    try:
        stripe.Webhook.construct_event(  # verifies the signature; the payload is read below
            request.body, request.headers.get("Stripe-Signature"), settings.STRIPE_WEBHOOK_SECRET
        )
    except stripe.SignatureVerificationError:
        logger.warning("stripe webhook with a bad signature")
        return JsonResponse({"error": "Invalid signature."}, status=400)
    except ValueError:
        return JsonResponse({"error": "The payload is not a Stripe event."}, status=400)

    payload = json.loads(request.body)  # plain dicts, as the event was signed
    if not payload.get("id") or not payload.get("type") or not isinstance(payload.get("data"), dict):
        return JsonResponse({"error": "The event has no id, type or data."}, status=400)
    try:
        with transaction.atomic():
            try:
                with transaction.atomic():
                    StripeEvent.objects.create(event_id=payload["id"], type=payload["type"])
            except IntegrityError:  # applied before (a replay), or being applied right now
                return JsonResponse({"received": True, "duplicate": True})
            # Any other failure rolls the event back and answers 500, so Stripe delivers it again.
            applied = apply_event(payload)
    except Organization.DoesNotExist:
        # Not one of ours (another app on the same Stripe account): acknowledge, change nothing.
        return JsonResponse({"received": True, "ignored": "unknown organization"})
    return JsonResponse({"received": True, "applied": applied})


def apply_event(event: dict) -> bool:
    obj = event["data"]["object"]
    if event["type"] in PAYMENT_INTENT_EVENTS and (obj.get("metadata") or {}).get("organization"):
        record_intent(obj)
        return True
    return False  # other event types are acknowledged and recorded, nothing to do
