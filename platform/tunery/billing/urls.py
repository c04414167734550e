from django.urls import path

from tunery.billing import views, webhooks

app_name = "billing"
urlpatterns = [
    path("billing", views.billing_page, name="page"),
    path("billing/top-up", views.top_up, name="top-up"),
    path("billing/card-setup", views.card_setup, name="card-setup"),
    path("billing/payment-method", views.payment_method, name="payment-method"),
    path("billing/settings", views.save_settings, name="settings"),
    path("billing/ledger.csv", views.ledger_csv, name="ledger-csv"),
    path("billing/receipts/<str:payment_id>", views.receipt, name="receipt"),
    path("billing/payments/<str:payment_id>/authenticate", views.authenticate_payment, name="authenticate"),
    path("billing/payments/<str:payment_id>/refresh", views.refresh_payment, name="refresh-payment"),
    path("billing/stripe/webhook/", webhooks.stripe_webhook, name="stripe-webhook"),
    path("staff/billing", views.staff_revenue, name="staff-revenue"),
]
