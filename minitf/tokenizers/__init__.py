"""Tokenizers: text <-> ids, with the interface of Hugging Face transformers.

``AutoTokenizer.from_pretrained(folder_or_hub_id)`` picks the class; ``ByteLevelBPETokenizer``
(alias ``GPT2Tokenizer``) is GPT-2 / RoBERTa / BART's byte-level BPE, ``WordPieceTokenizer``
(alias ``BertTokenizer``) is BERT / DistilBERT's WordPiece, ``UnigramTokenizer`` a Unigram
tokenizer.json and ``MarianTokenizer`` the SentencePiece Unigram models of Marian.
``bpe.py``, ``wordpiece.py`` and ``unigram.py`` explain the algorithms step by step
(``spm_model.py`` and ``normalizer.py``: SentencePiece's model file and normalizer). What they share, one concept per file:

- ``base.py``: ``PreTrainedTokenizer``, the call / decode / load / save machinery and the
  hooks an algorithm implements (its docstring builds a whole new tokenizer);
- ``added_tokens.py``: ``AddedToken`` and finding added / special tokens in the text;
- ``encoding.py``: ``Encoding`` (one sequence) and ``BatchEncoding`` (what a call returns);
- ``padding.py``: truncation (with overflow windows and stride) and padding;
- ``post_processing.py``: special-token templates (``[CLS] A [SEP]``) and decoding clean-up;
- ``readers.py``: tokenizer.json, tokenizer_config.json, special_tokens_map.json;
- ``unicode.py``: characters as the Rust `tokenizers` library classifies them.

    >>> from minitf.tokenizers import AutoTokenizer
    >>> AutoTokenizer.from_pretrained("weights/real/all-MiniLM-L6-v2").tokenize("Tokenizers!")
    ['token', '##izer', '##s', '!']
"""
from minitf.tokenizers.auto import AutoTokenizer
from minitf.tokenizers.base import AddedToken, BatchEncoding, PreTrainedTokenizer
from minitf.tokenizers.bpe import ByteLevelBPETokenizer, GPT2Tokenizer
from minitf.tokenizers.marian import MarianTokenizer
from minitf.tokenizers.unigram import UnigramTokenizer
from minitf.tokenizers.wordpiece import BertTokenizer, WordPieceTokenizer

__all__ = ["AutoTokenizer", "AddedToken", "BatchEncoding", "PreTrainedTokenizer",
           "ByteLevelBPETokenizer", "GPT2Tokenizer", "WordPieceTokenizer", "BertTokenizer",
           "UnigramTokenizer", "MarianTokenizer"]
