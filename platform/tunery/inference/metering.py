from tunery.inference.models import InferenceRequest


def record(
    *,
    organization,
    api_key,
    model: str,
    base_model,
    endpoint: str,
    stream: bool,
    status_code: int,
    usage: dict | None,
    latency_ms: float,
    ttft_ms: float | None = None,
) -> None:
    usage = usage or {}
    InferenceRequest.objects.create(
        organization=organization,
        api_key=api_key,
        model=model,
        base_model=base_model,
        endpoint=endpoint,
        stream=stream,
        status_code=status_code,
        prompt_tokens=usage.get("prompt_tokens") or 0,
        completion_tokens=usage.get("completion_tokens") or 0,
        latency_ms=round(latency_ms),
        time_to_first_token_ms=round(ttft_ms) if ttft_ms is not None else None,
    )
