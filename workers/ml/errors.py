"""The one error type the ML core raises, shaped like an OpenAI API error.

Celery tasks turn it into a job failure (``error.code``, ``error.message``, ``error.param``)
without parsing tracebacks, so every message here is written for the person who started the job.
"""

from __future__ import annotations


class TrainingError(Exception):
    """A failure a user can act on: ``code`` is machine-readable, ``message`` is plain words,
    ``param`` names the request field to change (or None)."""

    def __init__(self, code: str, message: str, param: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.param = param

    def to_dict(self) -> dict[str, str | None]:
        return {"code": self.code, "message": self.message, "param": self.param}
