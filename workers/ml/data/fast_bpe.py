"""A tiktoken twin of a Hugging Face byte-level BPE tokenizer, for counting tokens fast.

GPT-2-style tokenizers (SmolLM2, GPT-2, many code models) are a regex pre-split followed by
byte-pair merges. tiktoken runs exactly that algorithm about four times faster than the
``tokenizers`` library, mostly because it builds no offsets, masks or Encoding objects, and it
releases the GIL. The twin is built only when the tokenizer's configuration is one tiktoken
reproduces (no normalizer, the plain GPT-2 split, merge order equal to token ids, added tokens
matched verbatim) and is checked against the original on probe texts; anything else returns
None and callers use the original.
"""

from __future__ import annotations

import json
from functools import cache
from typing import Any

# The GPT-2 split that the ByteLevel pre-tokenizer applies when use_regex is true.
GPT2_SPLIT = r"""'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"""

_PROBES = (
    "Hello, world! It's 2026; we've 12,345.67 items — naïve café, 日本語, emoji 🙂.",
    "  leading spaces\n\n\ttabs and\r\nnewlines   trailing   ",
    "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n  Yes<|im_end|>\n",
    "code: def f(x):\n    return x**2  # comment\n\n\n",
    "Don't DON'T they'll I'm you're 'quoted' \"double\" ''''",
)


def twin_of(tokenizer: Any) -> Any | None:
    """The tiktoken Encoding equivalent to ``tokenizer`` (a transformers fast tokenizer), or
    None when there is none. Cached per tokenizer configuration."""
    backend = getattr(tokenizer, "backend_tokenizer", None)
    if backend is None:
        return None
    return _twin(backend.to_str())


@cache
def _twin(config_json: str) -> Any | None:
    try:
        import tiktoken
    except ImportError:  # optional speed-up; counting falls back to the original tokenizer
        return None
    from tokenizers import Tokenizer

    config = json.loads(config_json)
    ranks, special = _ranks_and_specials(config)
    if ranks is None:
        return None
    encoding = tiktoken.Encoding("tunery-twin", pat_str=GPT2_SPLIT, mergeable_ranks=ranks, special_tokens=special)
    original = Tokenizer.from_str(config_json)
    for text in _PROBES:
        if encoding.encode(text, allowed_special="all") != original.encode(text, add_special_tokens=False).ids:
            return None
    return encoding


def _ranks_and_specials(config: dict[str, Any]) -> tuple[dict[bytes, int] | None, dict[str, int]]:
    model, pre = config.get("model") or {}, config.get("pre_tokenizer") or {}
    plain_bpe = model.get("type") == "BPE" and not any(
        model.get(key)
        for key in ("dropout", "continuing_subword_prefix", "end_of_word_suffix", "byte_fallback", "ignore_merges")
    )
    plain_split = pre == {**pre, "type": "ByteLevel", "use_regex": True, "add_prefix_space": False}
    added = config.get("added_tokens") or []
    verbatim = all(not (t.get("lstrip") or t.get("rstrip") or t.get("single_word")) for t in added)
    if config.get("normalizer") or not (plain_bpe and plain_split and verbatim):
        return None, {}

    from transformers.convert_slow_tokenizer import bytes_to_unicode  # GPT-2's byte alphabet

    special = {t["content"]: t["id"] for t in added}
    to_byte = {char: byte for byte, char in bytes_to_unicode().items()}
    ranks: dict[bytes, int] = {}
    for token, token_id in model["vocab"].items():
        if token in special:
            continue
        if any(char not in to_byte for char in token):
            return None, {}
        ranks[bytes(to_byte[char] for char in token)] = token_id
    # tiktoken merges by the rank of the merged bytes; HF by the merge's position. They agree
    # when every merge produces a token with a larger id than the merge before it.
    merged = [model["vocab"].get("".join(m if isinstance(m, list) else m.split(" ", 1))) for m in model["merges"]]
    if len(ranks) < 256 or None in merged or any(a >= b for a, b in zip(merged, merged[1:])):
        return None, {}
    return ranks, special


def count_each(encoding: Any, texts: list[str]) -> list[int | None]:
    """Token counts of ``texts``, each encoded on its own, in one call; None for a text the
    twin cannot encode (see ``_count_alone``).

    The texts are joined by a special token, which the encoder splits on before anything else,
    so each text's tokens are exactly its own; the separators are then found and removed. One
    long call is about 1.6x faster than a call per text and, unlike thousands of short calls,
    lets a thread parsing the next batch hold the GIL meanwhile. A text that itself contains
    the separator is counted alone.
    """
    import numpy as np

    if not texts:
        return []
    separator = min(encoding.special_tokens_set, key=len)
    separator_id = encoding.encode_single_token(separator)
    joinable = [separator not in text for text in texts]
    try:
        tokens = encoding.encode_to_numpy(
            separator.join(t for t, ok in zip(texts, joinable) if ok), allowed_special="all"
        )
    except BaseException as exc:
        if not _is_panic(exc):
            raise
        return [_count_alone(encoding, text) for text in texts]
    bounds = np.flatnonzero(tokens == separator_id)
    joined = iter(np.diff(bounds, prepend=-1, append=len(tokens)) - 1)
    return [int(next(joined)) if ok else _count_alone(encoding, text) for text, ok in zip(texts, joinable)]


def _count_alone(encoding: Any, text: str) -> int | None:
    """Some byte-level vocabularies lack a token for a few bytes (SmolLM2's has none for
    \x04, \x13 or the lead bytes of U+40000..U+BFFFF). The original tokenizer drops such a
    byte; tiktoken panics, so the caller counts that text the original way."""
    try:
        return len(encoding.encode(text, allowed_special="all"))
    except BaseException as exc:
        if not _is_panic(exc):
            raise
        return None


def _is_panic(exc: BaseException) -> bool:
    # pyo3 raises a Rust panic as PanicException, a BaseException subclass it does not export.
    return type(exc).__name__ == "PanicException"
