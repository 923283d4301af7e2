"""Text generation: logits processors, stopping criteria, the KV cache, streamers, statistics
and the `generate()` loop (greedy, sampling, beam search)."""
from .kv_cache import KVCache
from .logits_process import (LogitsProcessorList, MinNewTokensLogitsProcessor,
                             NoRepeatNGramLogitsProcessor, PresenceFrequencyPenaltyLogitsProcessor,
                             RepetitionPenaltyLogitsProcessor, TemperatureLogitsWarper,
                             TopKLogitsWarper, TopPLogitsWarper, build_processors)
from .stats import GenerationStats
from .stopping import (EosTokenCriteria, MaxLengthCriteria, StoppingCriteriaList,
                       StopStringCriteria)
from .streamers import TextIteratorStreamer, TextStreamer
from .utils import GenerationMixin

__all__ = ["KVCache", "LogitsProcessorList", "MinNewTokensLogitsProcessor",
           "NoRepeatNGramLogitsProcessor", "PresenceFrequencyPenaltyLogitsProcessor",
           "RepetitionPenaltyLogitsProcessor", "TemperatureLogitsWarper", "TopKLogitsWarper",
           "TopPLogitsWarper", "build_processors", "GenerationStats", "EosTokenCriteria",
           "MaxLengthCriteria", "StoppingCriteriaList", "StopStringCriteria",
           "TextIteratorStreamer", "TextStreamer", "GenerationMixin"]
