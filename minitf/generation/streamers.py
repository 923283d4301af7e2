"""Streamers: receive tokens as they are generated, for token-by-token output.

`generate(..., streamer=s)` calls ``s.put(ids)`` with the prompt first, then with each new
token (batch size 1), and ``s.end()`` at the end, as transformers does.

    >>> from minitf import AutoModelForCausalLM, AutoTokenizer
    >>> model = AutoModelForCausalLM.from_pretrained("weights/tiny-gpt2")
    >>> tok = AutoTokenizer.from_pretrained("weights/tiny-gpt2")
    >>> ids = tok("I love", return_tensors="np")["input_ids"]
    >>> streamer = TextStreamer(tok, skip_prompt=True)
    >>> _ = model.generate(ids, max_new_tokens=6, streamer=streamer)  # printed piece by piece
     stepism? simlyism

(a tiny random model: the words mean nothing; with the real GPT-2 the continuation reads as
English, printed word by word while it generates.)
"""
from __future__ import annotations

import queue
import sys

import numpy as np


class BaseStreamer:
    def put(self, ids):  # pragma: no cover - interface
        raise TypeError(f"{type(self).__name__} must implement put()")

    def end(self):  # pragma: no cover - interface
        raise TypeError(f"{type(self).__name__} must implement end()")


class TextStreamer(BaseStreamer):
    """Decode the growing token list and emit only text that is complete.

    Byte-level BPE tokens can end in the middle of a UTF-8 character (an emoji is often 2-3
    tokens), so text is held back while it ends in the replacement character, and emitted up to
    the last space otherwise (words come out whole), the rest at `end()`.
    """

    def __init__(self, tokenizer, skip_prompt: bool = False, file=None, **decode_kwargs):
        self.tokenizer = tokenizer
        self.skip_prompt = skip_prompt
        self.decode_kwargs = decode_kwargs
        self.file = file
        self.token_cache: list[int] = []
        self.printed = 0
        self.next_is_prompt = True

    def put(self, ids):
        ids = np.asarray(ids)
        if ids.ndim > 1:
            if ids.shape[0] > 1:
                raise ValueError("TextStreamer only supports batch size 1")
            ids = ids[0]
        if self.skip_prompt and self.next_is_prompt:
            self.next_is_prompt = False
            return
        self.next_is_prompt = False
        self.token_cache.extend(int(i) for i in ids.tolist())
        text = self.tokenizer.decode(self.token_cache, **self.decode_kwargs)
        if text.endswith("\n"):  # a line is complete: flush it and start afresh
            chunk, self.token_cache, self.printed = text[self.printed:], [], 0
        elif text.endswith("\ufffd"):  # an incomplete UTF-8 character: wait for its other bytes
            return
        else:
            cut = text.rfind(" ") + 1
            chunk = text[self.printed:cut] if cut > self.printed else ""
            self.printed += len(chunk)
        if chunk:
            self.on_text(chunk, stream_end=False)

    def end(self):
        text = self.tokenizer.decode(self.token_cache, **self.decode_kwargs) if self.token_cache else ""
        chunk = text[self.printed:]
        self.token_cache, self.printed, self.next_is_prompt = [], 0, True
        self.on_text(chunk, stream_end=True)

    def on_text(self, text: str, stream_end: bool = False):
        """Print the text (override to send it elsewhere)."""
        out = self.file or sys.stdout
        print(text, end="" if not stream_end else "\n", file=out, flush=True)


class TextIteratorStreamer(TextStreamer):
    """Collect text pieces in a queue, to iterate over from another thread:

        streamer = TextIteratorStreamer(tok)
        Thread(target=model.generate, kwargs=dict(input_ids=ids, streamer=streamer)).start()
        for piece in streamer: print(piece, end="")
    """

    def __init__(self, tokenizer, skip_prompt: bool = False, timeout: float | None = None, **kw):
        super().__init__(tokenizer, skip_prompt, **kw)
        self.queue: queue.Queue = queue.Queue()
        self.timeout = timeout
        self._stop = object()

    def on_text(self, text: str, stream_end: bool = False):
        if text:
            self.queue.put(text, timeout=self.timeout)
        if stream_end:
            self.queue.put(self._stop, timeout=self.timeout)

    def __iter__(self):
        return self

    def __next__(self):
        item = self.queue.get(timeout=self.timeout)
        if item is self._stop:
            raise StopIteration
        return item
