"""Text generation: logits processors, stopping criteria, the KV cache, streamers, statistics
and the `generate()` loop (greedy, sampling, beam search)."""
from .configuration import GenerationConfig
from .kv_cache import KVCache
from .logits_process import (ForcedBOSTokenLogitsProcessor, ForcedEOSTokenLogitsProcessor,
                             LogitsProcessorList, MinLengthLogitsProcessor,
                             MinNewTokensLogitsProcessor, NoRepeatNGramLogitsProcessor,
                             PresenceFrequencyPenaltyLogitsProcessor,
                             RepetitionPenaltyLogitsProcessor, SuppressTokensAtBeginLogitsProcessor,
                             SuppressTokensLogitsProcessor, TemperatureLogitsWarper,
                             TopKLogitsWarper, TopPLogitsWarper, build_processors)
from .seed import set_seed
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
           "TextIteratorStreamer", "TextStreamer", "GenerationMixin", "GenerationConfig", "set_seed",
           "MinLengthLogitsProcessor", "ForcedBOSTokenLogitsProcessor", "ForcedEOSTokenLogitsProcessor",
           "SuppressTokensLogitsProcessor", "SuppressTokensAtBeginLogitsProcessor"]
