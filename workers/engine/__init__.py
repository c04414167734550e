"""Tunery's inference engine: one base model, many LoRA adapters, the OpenAI HTTP protocol.

A separate, Django-free process (``python -m workers.engine``). The gateway forwards
authenticated, metered requests here; see docs/engine.md.
"""
