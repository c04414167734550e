"""Which kind of process this is, told by its entry point in-process, before Django's settings
load: `tunery/asgi.py` marks the web process. Settings read it to give only the web process a
pool of PostgreSQL connections.

Not an environment variable: a process's environment is inherited by everything it starts, so a
web process (or a test run that imported tunery.asgi) starting a Celery worker would hand it the
web's pool, whose threads do not survive the worker's fork.
"""

web = False


def mark_web() -> None:
    """Call before anything reads Django's settings; afterwards it changes nothing."""
    global web
    web = True
