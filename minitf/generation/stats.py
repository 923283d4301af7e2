"""Per-call generation statistics a student can print.

After ``model.generate(...)``, ``model.generation_stats`` holds a `GenerationStats`:

    >>> import numpy as np
    >>> from minitf import AutoModelForCausalLM
    >>> model = AutoModelForCausalLM.from_pretrained("weights/tiny-gpt2")
    >>> _ = model.generate(np.array([[288, 444]]), max_new_tokens=10)
    >>> print(model.generation_stats)
    prompt tokens          2   (batch 1)
    new tokens             10
    time to first token    ... ms
    kernel compilation     ... s   (once, at model load; not in the times here)
    time per output token  ... ms
    tokens per second      ...
    KV cache peak          0.01 MB
    weights                0.2 MB

(With the real GPT-2 small on 2 cores: about 8 ms per token, 0.09 MB of cache for 25
positions, 497.8 MB of weights.)
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field


@dataclass
class GenerationStats:
    batch_size: int = 0
    prompt_tokens: int = 0
    new_tokens: int = 0  # tokens generated per sequence (the longest one)
    time_to_first_token: float = 0.0  # seconds: prefill + choosing the first token
    step_times: list = field(default_factory=list)  # seconds per later token
    total_time: float = 0.0
    kv_cache_peak_bytes: int = 0
    weight_bytes: int = 0
    kernel_compile_s: float = 0.0  # one-time kernel compile/load for this model, before the clock
    encoder_time: float = 0.0  # seconds of an encoder-decoder's one encoder pass (in the TTFT)
    _start: float = 0.0

    def start(self):
        self._start = time.perf_counter()

    def first_token(self):
        self.time_to_first_token = time.perf_counter() - self._start + self.encoder_time
        self._last = time.perf_counter()

    def step(self):
        now = time.perf_counter()
        self.step_times.append(now - self._last)
        self._last = now

    def finish(self, cache=None):
        self.total_time = time.perf_counter() - self._start + self.encoder_time
        self.note_cache(cache)

    def note_cache(self, cache):
        if cache is not None:
            self.kv_cache_peak_bytes = max(self.kv_cache_peak_bytes, cache.nbytes)

    @property
    def time_per_output_token(self) -> float:
        """Mean seconds per token after the first (the decoding speed)."""
        return sum(self.step_times) / len(self.step_times) if self.step_times else 0.0

    @property
    def tokens_per_second(self) -> float:
        """New tokens (all sequences of the batch) per second of the whole call."""
        return self.batch_size * self.new_tokens / self.total_time if self.total_time else 0.0

    def as_dict(self) -> dict:
        return {"batch_size": self.batch_size, "prompt_tokens": self.prompt_tokens,
                "new_tokens": self.new_tokens, "time_to_first_token_s": self.time_to_first_token,
                "time_per_output_token_s": self.time_per_output_token,
                "tokens_per_second": self.tokens_per_second, "total_time_s": self.total_time,
                "kv_cache_peak_bytes": self.kv_cache_peak_bytes, "weight_bytes": self.weight_bytes,
                "kernel_compile_s": self.kernel_compile_s, "encoder_time_s": self.encoder_time}

    def __str__(self) -> str:
        mb = 1024 * 1024
        encoder = ([f"  of which encoder     {self.encoder_time * 1e3:.1f} ms   (once per call)"]
                   if self.encoder_time else [])
        return "\n".join([
            f"prompt tokens          {self.prompt_tokens}   (batch {self.batch_size})",
            f"new tokens             {self.new_tokens}",
            f"time to first token    {self.time_to_first_token * 1e3:.1f} ms",
            *encoder,
            f"kernel compilation     {self.kernel_compile_s:.2f} s   (once, at model load; not in "
            f"the times here)",
            f"time per output token  {self.time_per_output_token * 1e3:.1f} ms",
            f"tokens per second      {self.tokens_per_second:.1f}",
            f"KV cache peak          {self.kv_cache_peak_bytes / mb:.2f} MB",
            f"weights                {self.weight_bytes / mb:.1f} MB",
        ])
