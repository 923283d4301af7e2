"""Added tokens: ``<|endoftext|>``, ``[CLS]``, ``<mask>`` and whatever ``add_tokens`` adds.

They live outside the algorithm's vocabulary and are cut out of the text *before* the
algorithm runs, so BPE or WordPiece never split them (step 1 of ``base.py``). As in the
`tokenizers` library, matching is leftmost-longest, and each `AddedToken` carries flags:
``lstrip`` / ``rstrip`` swallow the whitespace next to a match, ``single_word`` refuses a
match glued to a word character, and ``normalized`` says whether the token is looked for in
the raw text (False, the usual case for special tokens) or in the normalized text (True).

`AddedVocabulary` holds them (id <-> token) and finds them:

    >>> added = AddedVocabulary()
    >>> added.add([AddedToken("<|endoftext|>", special=True, normalized=False),
    ...            AddedToken("<mask>", lstrip=True, normalized=False)], model_vocab={"a": 0, "b": 1})
    2
    >>> text = "ab <mask><|endoftext|>b"
    >>> [(text[s:e], token_id) for s, e, token_id in added.split(text, normalized=False)]
    [('ab', None), (' <mask>', 3), ('<|endoftext|>', 2), ('b', None)]
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable, Iterator, Sequence

from minitf.tokenizers.unicode import WHITESPACE, is_word_char

# The named special tokens of transformers, in the order `all_special_tokens` lists them.
SPECIAL_TOKENS_ATTRIBUTES = ("bos_token", "eos_token", "unk_token", "sep_token", "pad_token",
                             "cls_token", "mask_token")


@dataclass
class AddedToken:
    """A token matched in the raw text before the algorithm runs (same fields as `tokenizers`).

    special:     skipped by ``decode(..., skip_special_tokens=True)``.
    lstrip/rstrip: the match swallows the whitespace on its left/right (RoBERTa's ``<mask>``
                 has lstrip, so ``"a <mask>"`` gives ``["a", " <mask>"]``, not ``["a", " ", "<mask>"]``).
    single_word: only match when not glued to a word character on either side.
    normalized:  match on the normalized text (after the normalizer) rather than the raw text.
    """
    content: str
    special: bool = False
    lstrip: bool = False
    rstrip: bool = False
    single_word: bool = False
    normalized: bool = True

    @classmethod
    def from_any(cls, value: "str | dict | AddedToken", special: bool = True) -> "AddedToken":
        """Build from a string or the dict form used in tokenizer.json / tokenizer_config.json."""
        if isinstance(value, AddedToken):
            return value
        if isinstance(value, str):
            return cls(value, special=special, normalized=not special)
        if isinstance(value, dict) and isinstance(value.get("content"), str):
            return cls(value["content"], special=value.get("special", special),
                       lstrip=value.get("lstrip", False), rstrip=value.get("rstrip", False),
                       single_word=value.get("single_word", False),
                       normalized=value.get("normalized", not special))
        raise TypeError(f"a token must be a str or a dict with 'content', got {value!r}")

    def to_dict(self, id: int | None = None) -> dict:
        d = {"content": self.content, "single_word": self.single_word, "lstrip": self.lstrip,
             "rstrip": self.rstrip, "normalized": self.normalized, "special": self.special}
        return d if id is None else {"id": id, **d}


# A group of added tokens ready to be found: matched text -> id, and one regex for all of them.
Matcher = tuple[dict[str, int], re.Pattern]


class AddedVocabulary:
    """The added tokens of one tokenizer (like `tokenizers`' AddedVocabulary).

    `normalize` is the tokenizer's normalizer on a string: tokens with ``normalized=True`` are
    looked for in normalized text, so their own text is normalized first (with lower-casing,
    ``"Hello"`` then matches ``"HELLO"``). None means the tokenizer does not normalize.
    """

    def __init__(self, normalize: Callable[[str], str] | None = None):
        self.normalize = normalize
        self.tokens: dict[int, AddedToken] = {}      # id -> token
        self.ids: dict[str, int] = {}                # content -> id
        self._matchers: dict[bool, Matcher | None] = {}   # rebuilt lazily after changes

    def __getstate__(self) -> dict:
        """Pickle the tokens, not the matchers (rebuilt on first use)."""
        return {**vars(self), "_matchers": {}}

    def __len__(self) -> int:
        return len(self.tokens)

    def __contains__(self, token_id: object) -> bool:
        return token_id in self.tokens

    def __iter__(self) -> Iterator[tuple[int, AddedToken]]:
        """(id, token) pairs in id order."""
        return iter(sorted(self.tokens.items()))

    def is_special(self, token_id: int) -> bool:
        """Whether `token_id` is an added token marked special (dropped by skip_special_tokens)."""
        token = self.tokens.get(token_id)
        return token is not None and token.special

    def register(self, token: AddedToken, token_id: int) -> None:
        """Put `token` at `token_id` (a token with the same content loses its old id)."""
        old = self.ids.get(token.content)
        if old is not None and old != token_id:
            self.tokens.pop(old, None)
        self.tokens[token_id] = token
        self.ids[token.content] = token_id
        self._matchers.clear()

    def add(self, tokens: Sequence[AddedToken], model_vocab: dict[str, int]) -> int:
        """Add tokens as `tokenizers` does: a token already known keeps its id (from this
        vocabulary or `model_vocab`), a new one gets the next free id after both. Returns how
        many were new."""
        added = 0
        for token in tokens:
            if not token.content or self.tokens.get(self.ids.get(token.content, -1)) == token:
                continue
            token_id = self.ids.get(token.content, model_vocab.get(token.content))
            if token_id is None:
                token_id = max([len(model_vocab) - 1, *self.tokens]) + 1
                added += 1
            self.register(token, token_id)
        return added

    def matcher(self, normalized: bool) -> Matcher | None:
        """(text -> id, pattern) for the tokens with this `normalized` flag; None if none.

        The pattern is an alternation of the escaped texts, longest first: Python's `re` tries
        the alternatives in order at the leftmost position, so it finds the leftmost-longest
        match, like the Aho-Corasick automaton of `tokenizers`.
        """
        if normalized not in self._matchers:
            ids: dict[str, int] = {}
            for token_id, token in self.tokens.items():
                if token.normalized == normalized:
                    content = self.normalize(token.content) if normalized and self.normalize \
                        else token.content
                    if content:
                        ids.setdefault(content, token_id)
            self._matchers[normalized] = (ids, re.compile("|".join(
                re.escape(c) for c in sorted(ids, key=len, reverse=True)))) if ids else None
        return self._matchers[normalized]

    def split(self, text: str, start: int = 0, end: int | None = None, *,
              normalized: bool) -> list[tuple[int, int, int | None]]:
        """Cut ``text[start:end]`` into pieces ``(start, end, added token id or None)`` that cover
        it, finding the tokens with this `normalized` flag; then the single_word / lstrip /
        rstrip rules apply exactly as in `tokenizers`."""
        end = len(text) if end is None else end
        matcher = self.matcher(normalized)
        if matcher is None or start == end:
            return [(start, end, None)]
        content_ids, pattern = matcher
        out: list[tuple[int, int, int | None]] = []
        last = start                          # end of the previous kept match
        for match in pattern.finditer(text, start, end):
            m_start, m_end = match.span()
            token_id = content_ids[match.group()]
            token = self.tokens[token_id]
            if token.single_word:             # must not be glued to a word on either side
                glued_left = m_start > start and is_word_char(text[m_start - 1])
                glued_right = m_end < end and is_word_char(text[m_end])
                if glued_left or glued_right:
                    continue
            if token.lstrip:                  # swallow the whitespace on the left...
                while m_start > last and text[m_start - 1] in WHITESPACE:
                    m_start -= 1
            if token.rstrip:                  # ...and/or on the right
                while m_end < end and text[m_end] in WHITESPACE:
                    m_end += 1
            if last < m_start:
                out.append((last, m_start, None))
            out.append((m_start, m_end, token_id))
            last = m_end
        if last < end:
            out.append((last, end, None))
        return out
