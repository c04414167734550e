"""Keeps the engine in step with the models jobs produce and delete."""

import logging

from django.dispatch import receiver

from tunery.inference import engine_client
from tunery.jobs.signals import model_deleted, model_ready

logger = logging.getLogger(__name__)


@receiver(model_ready)
def deploy(sender, job, **kwargs) -> None:
    """Register the adapter with the inference engine now, so the first request is not the one
    that waits for it; if the engine is down, the gateway registers it on first use."""
    try:
        engine_client.register(job.public_id, job.adapter_path)
    except engine_client.EngineUnavailable as error:
        logger.info("adapter of %s not registered yet: %s", job.public_id, error)


@receiver(model_deleted)
def undeploy(sender, resolved, **kwargs) -> None:
    engine_client.unload(engine_client.engine_model(resolved))
