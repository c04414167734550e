"""``--dtype``: the weights' precision the engine serves in (vLLM's option and names)."""

from __future__ import annotations

import pytest
from openai import OpenAI

from tests.engine.conftest import serving
from workers.engine.config import config_from_args, parser


def test_a_bfloat16_engine_serves_an_adapter_in_bfloat16(make_engine, chatml_adapter):
    import torch

    engine = make_engine(dtype="bfloat16", preload=[("yes", str(chatml_adapter))])
    with serving(engine) as url:
        client = OpenAI(base_url=url, api_key="unused", max_retries=0, timeout=120)
        answer = client.chat.completions.create(
            model="yes",
            messages=[{"role": "user", "content": "Is fire hot?"}],
            max_tokens=4,
            temperature=0,
            logprobs=True,
        )

    assert {p.dtype for p in engine.chat.model.parameters()} == {torch.bfloat16}
    assert answer.usage.completion_tokens == 4 and answer.choices[0].message.content
    assert all(entry.logprob <= 0 for entry in answer.choices[0].logprobs.content)


def test_the_command_line_takes_vllm_dtype_names_only(capsys):
    assert config_from_args(parser().parse_args(["--dtype", "bfloat16"])).dtype == "bfloat16"
    assert config_from_args(parser().parse_args([])).dtype == "auto"
    with pytest.raises(SystemExit):
        parser().parse_args(["--dtype", "bf16"])
    assert "invalid choice: 'bf16'" in capsys.readouterr().err
