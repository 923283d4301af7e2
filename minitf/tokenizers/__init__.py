"""Tokenizers: text <-> ids, with the interface of Hugging Face transformers.

``AutoTokenizer.from_pretrained(folder_or_hub_id)`` picks the class; ``ByteLevelBPETokenizer``
(alias ``GPT2Tokenizer``) is GPT-2 / RoBERTa / BART's byte-level BPE, ``WordPieceTokenizer``
(alias ``BertTokenizer``) is BERT / DistilBERT's WordPiece. ``bpe.py`` and ``wordpiece.py``
explain the algorithms step by step; ``base.py`` holds padding, truncation (with overflow
windows), special tokens and decoding.
"""
from minitf.tokenizers.auto import AutoTokenizer
from minitf.tokenizers.base import AddedToken, BatchEncoding, PreTrainedTokenizer
from minitf.tokenizers.bpe import ByteLevelBPETokenizer, GPT2Tokenizer
from minitf.tokenizers.wordpiece import BertTokenizer, WordPieceTokenizer

__all__ = ["AutoTokenizer", "AddedToken", "BatchEncoding", "PreTrainedTokenizer",
           "ByteLevelBPETokenizer", "GPT2Tokenizer", "WordPieceTokenizer", "BertTokenizer"]
