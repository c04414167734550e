"""Errors that become OpenAI-shaped HTTP answers: ``{"error": {"message", "type", "param", "code"}}``."""

from __future__ import annotations

from typing import Any


class EngineError(Exception):
    def __init__(
        self,
        status: int,
        message: str,
        type_: str = "invalid_request_error",
        param: str | None = None,
        code: str | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.type = type_
        self.param = param
        self.code = code

    def body(self) -> dict[str, Any]:
        return {"error": {"message": self.message, "type": self.type, "param": self.param, "code": self.code}}


def bad_request(message: str, param: str | None = None, code: str | None = None) -> EngineError:
    return EngineError(400, message, "invalid_request_error", param, code)


def model_not_found(name: str) -> EngineError:
    # Same wording and code as OpenAI's answer, so clients that special-case it keep working.
    return EngineError(
        404,
        f"The model `{name}` does not exist or you do not have access to it.",
        "invalid_request_error",
        "model",
        "model_not_found",
    )


def server_error(message: str, code: str | None = None) -> EngineError:
    return EngineError(500, message, "server_error", None, code)
