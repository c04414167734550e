"""Incremental detokenization of one choice, with stop strings.

Tokens arrive one at a time but text can only be handed out when it is final: a token may end
in the middle of a UTF-8 character (the decoder shows U+FFFD until the rest arrives), and the
tail of the text may be the start of a stop string that the next token completes (OpenAI
never returns the stop string). So text is released up to the longest safe prefix, and every
token keeps the character span it produced, so logprobs are released with their text.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from transformers import PreTrainedTokenizerBase

REPLACEMENT = "\ufffd"


class TextStream:
    def __init__(self, tokenizer: PreTrainedTokenizerBase, stop: list[str]) -> None:
        self.tokenizer = tokenizer
        self.stop = stop
        self.ids: list[int] = []
        self.text = ""  # the stable text so far (cut before a stop string once one matched)
        self.starts: list[int] = []  # character offset where each token's text begins
        self.ends: list[int | None] = []  # None until the token's characters are complete
        self.released = 0  # characters handed out
        self.released_tokens = 0  # tokens whose logprobs were handed out

    def _decode(self, ids: list[int]) -> str:
        return self.tokenizer.decode(ids, skip_special_tokens=True, clean_up_tokenization_spaces=False)

    def push(self, token_id: int) -> bool:
        """Add a token; True when a stop string has now appeared (the text is cut before it)."""
        self.ids.append(token_id)
        self.starts.append(len(self.text))
        self.ends.append(None)
        text = self._decode(self.ids)
        if text.endswith(REPLACEMENT):
            return False  # an incomplete character: wait for its remaining bytes
        self._resolve(len(text))
        searched = len(self.text)
        self.text = text
        longest = max((len(s) for s in self.stop), default=0)
        # Only the new characters (plus a stop string's length of overlap) can hold a new match.
        window = max(0, searched - longest + 1)
        cuts = [found for s in self.stop if (found := text.find(s, window)) != -1]
        if cuts:
            self.text = text[: min(cuts)]
            return True
        return False

    def _resolve(self, end: int) -> None:
        for i in range(len(self.ends) - 1, -1, -1):
            if self.ends[i] is not None:
                break
            self.ends[i] = end

    def _holdback(self) -> int:
        """Length of the longest tail of the text that could still grow into a stop string."""
        best = 0
        for stop in self.stop:
            for k in range(min(len(stop) - 1, len(self.text)), best, -1):
                if self.text.endswith(stop[:k]):
                    best = k
                    break
        return best

    def release(self, final: bool) -> tuple[str, range]:
        """Text not handed out yet, and the indexes of the tokens it completes.

        ``final``: the choice is over, so nothing is held back; tokens that began before the
        end of the (possibly stop-cut) text are released, those wholly after a cut are dropped.
        """
        if final:
            if self.ends and self.ends[-1] is None:
                # Ended inside a character (length limit): emit what the decoder shows.
                self.text = self._decode(self.ids)
                self._resolve(len(self.text))
            end = len(self.text)
            count = sum(1 for start in self.starts if start < end)
        else:
            end = max(self.released, len(self.text) - self._holdback())
            count = self.released_tokens
            while count < len(self.ids) and (token_end := self.ends[count]) is not None and token_end <= end:
                count += 1
        delta = self.text[self.released : end]
        tokens = range(self.released_tokens, max(count, self.released_tokens))
        self.released = max(self.released, end)
        self.released_tokens = max(count, self.released_tokens)
        return delta, tokens
