import os

from tunery import process_role

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tunery.settings")
# A pool of PostgreSQL connections for the web process (settings.py, "database", says why),
# told in-process so that processes started from this one do not inherit it (process_role.py).
process_role.mark_web()

from django.core.asgi import get_asgi_application  # noqa: E402

django_application = get_asgi_application()

# Imported once Django is set up (the guard reads settings, URLs and the database).
from tunery.ops.body_guard import BodyGuard  # noqa: E402

# Refuses oversized or unauthenticated bodies before Django reads them (docs/operations.md).
application = BodyGuard(django_application)
