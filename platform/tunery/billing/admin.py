"""The operators' side of billing: the price book (versioned: add, never edit), the ledger
(manual credits and refunds are new entries), accounts, payments and webhook events."""

from django import forms
from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html
from django.utils.http import urlencode

from tunery.billing.models import CREDIT_KINDS, BillingAccount, EntryKind, LedgerEntry, Payment, Price, StripeEvent


class AppendOnlyAdmin(admin.ModelAdmin):
    """Rows can be added and read; changing or deleting one is not offered."""

    def has_change_permission(self, request, obj=None):
        return obj is None and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Price)
class PriceAdmin(AppendOnlyAdmin):
    """To change a price, add a new row with a later 'effective from': jobs keep the price
    they were quoted, inference is charged at the price in effect when it is charged."""

    list_display = [
        "base_model",
        "training_per_million",
        "input_per_million",
        "output_per_million",
        "effective_from",
        "created_at",
    ]
    list_filter = ["base_model"]


class CreditForm(forms.ModelForm):
    class Meta:
        model = LedgerEntry
        fields = ["organization", "kind", "amount", "description", "job"]

    def clean(self):
        data = super().clean()
        if data.get("amount") is not None and data["amount"] <= 0:
            self.add_error(
                "amount",
                "A credit is a positive amount; to take money back, charge it through a job or ask an engineer.",
            )
        job, organization = data.get("job"), data.get("organization")
        if job and organization and job.organization_id != organization.pk:
            self.add_error("job", f"{job.public_id} belongs to another organization.")
        return data


@admin.register(LedgerEntry)
class LedgerEntryAdmin(AppendOnlyAdmin):
    """Staff add credits (a refund, a goodwill adjustment) as new entries; nothing is edited."""

    form = CreditForm
    raw_id_fields = ["job"]
    list_display = ["public_id", "organization", "kind", "amount", "description", "job", "created_at"]
    list_filter = ["kind", "created_at"]
    search_fields = ["public_id", "organization__name", "organization__slug", "description", "job__public_id"]
    fields = ["organization", "kind", "amount", "description", "job"]
    autocomplete_fields = ["organization"]

    def formfield_for_choice_field(self, db_field, request, **kwargs):
        if db_field.name == "kind":  # by hand, only credits: holds and charges come from jobs and usage
            kwargs["choices"] = [(k.value, k.label) for k in CREDIT_KINDS if k != "trial"]
        return super().formfield_for_choice_field(db_field, request, **kwargs)

    def save_model(self, request, obj, form, change):
        obj.created_by = request.user.get_username()
        super().save_model(request, obj, form, change)


@admin.register(BillingAccount)
class BillingAccountAdmin(admin.ModelAdmin):
    list_display = [
        "organization",
        "stripe_customer_id",
        "card_brand",
        "card_last4",
        "monthly_spend_limit",
        "auto_recharge",
    ]
    search_fields = ["organization__name", "organization__slug", "stripe_customer_id"]
    readonly_fields = [
        "organization",
        "add_credit",
        "stripe_customer_id",
        "stripe_payment_method_id",
        "card_brand",
        "card_last4",
        "card_exp",
    ]

    @admin.display(description="Credit")
    def add_credit(self, account):
        """Where staff grant credit (the only way to add it without a payment when
        TUNERY_SELF_SERVICE_CREDITS is off): a new ledger entry for this organization."""
        url = (
            reverse("admin:billing_ledgerentry_add")
            + "?"
            + urlencode({"organization": account.organization_id, "kind": EntryKind.ADJUSTMENT})
        )
        return format_html('<a href="{}">Add credit to {}</a>', url, account.organization)


@admin.register(Payment)
class PaymentAdmin(admin.ModelAdmin):
    list_display = ["public_id", "organization", "amount", "status", "automatic", "failure_message", "created_at"]
    list_filter = ["status", "automatic"]
    search_fields = ["public_id", "stripe_payment_intent_id", "organization__name"]
    readonly_fields = [f.name for f in Payment._meta.fields]


@admin.register(StripeEvent)
class StripeEventAdmin(admin.ModelAdmin):
    list_display = ["event_id", "type", "received_at"]
    search_fields = ["event_id", "type"]
    readonly_fields = ["event_id", "type", "received_at"]
