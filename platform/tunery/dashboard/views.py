from django.shortcuts import render

from tunery.billing.summary import billing_summary
from tunery.dashboard.checklist import dashboard
from tunery.orgs.access import member_required


@member_required()
def home(request):
    context = {**dashboard(request.organization), "billing": billing_summary(request.organization)}
    return render(request, "dashboard/home.html", context)
