import os
import sys
from pathlib import Path

sys.path.insert(1, str(Path(__file__).resolve().parents[1]))  # platform/ is a source root
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tunery.settings")

from django.core.asgi import get_asgi_application  # noqa: E402

application = get_asgi_application()
