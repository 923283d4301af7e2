"""summarization: a shorter text that says what a long one says (chapter 1 of the course).

With the course's default model (``pipeline("summarization")``: sshleifer/distilbart-cnn-12-6,
a DistilBART whose generation_config asks for 4 beams, length_penalty 2.0,
no_repeat_ngram_size 3, min_length 56, max_length 142)::

    summarizer = pipeline("summarization")
    summarizer("America has changed dramatically during recent years. ...")
    [{'summary_text': ' America has changed dramatically during recent years . The number of
      engineering graduates in the U.S. has declined in traditional engineering disciplines ...'}]

The same call on the committed tiny random BART (it ships the same kind of generation
defaults; its "summary" means nothing):

    >>> from minitf import pipeline
    >>> summarizer = pipeline("summarization", model="weights/tiny-bart")
    >>> out = summarizer("America has changed dramatically during recent years.", max_length=12)
    >>> list(out[0]), len(out)
    (['summary_text'], 1)

It is text2text-generation (text2text_generation.py) with the output under ``summary_text``.
As in transformers 4.x, the checkpoint's generation options apply unless the call gives its
own (``min_length``, ``max_length``, ``num_beams``, ``length_penalty`` ...); a ``max_length``
longer than the input draws a warning (a summary should be shorter), and ``max_length`` below
``min_length`` is an error. Inputs longer than the model reads are truncated, with a warning.
"""
from __future__ import annotations

import logging

from .text2text_generation import Text2TextGenerationPipeline

logger = logging.getLogger(__name__)


class SummarizationPipeline(Text2TextGenerationPipeline):
    task = "summarization"
    return_name = "summary"

    def check_inputs(self, input_length: int, kwargs: dict) -> None:
        super().check_inputs(input_length, kwargs)
        max_length = self.option(kwargs, "max_length")
        if kwargs.get("max_new_tokens") is None and max_length is not None and input_length < max_length:
            logger.warning(f"Your max_length is set to {max_length}, but your input_length is only "
                           f"{input_length}. Since this is a summarization task, where outputs "
                           f"shorter than the input are typically wanted, you might consider "
                           f"decreasing max_length manually, e.g. summarizer('...', "
                           f"max_length={input_length // 2})")
