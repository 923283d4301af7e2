"""Around the algorithm's tokens: special tokens on the way in, clean-up on the way out.

`TemplatePostProcessor` puts the special tokens around one sequence or a pair, from a
template (step 3 of ``base.py``), and reads / writes the ``post_processor`` of
tokenizer.json; `clean_up_tokenization` is the clean-up of decoded text.

    >>> bert = TemplatePostProcessor.bert("[CLS]", "[SEP]")
    >>> a, b = Encoding(ids=[7592], tokens=["hello"]), Encoding(ids=[2088], tokens=["world"])
    >>> for enc in (a, b):
    ...     enc.offsets, enc.word_ids, enc.type_ids, enc.special_tokens_mask = [(0, 5)], [0], [0], [0]
    >>> pair = bert.apply(a, b, True, {"[CLS]": 101, "[SEP]": 102}.get)
    >>> pair.ids, pair.type_ids, pair.sequence_ids
    ([101, 7592, 102, 2088, 102], [0, 0, 0, 1, 1], [None, 0, None, 1, None])
    >>> clean_up_tokenization("he said , \\"i do n't know .\\"")
    'he said, "i don\\'t know."'
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from minitf.tokenizers.encoding import Encoding

# (old, new) in the order transformers' `clean_up_tokenization` replaces them.
_CLEAN_UP = ((" .", "."), (" ?", "?"), (" !", "!"), (" ,", ","), (" ' ", "'"), (" n't", "n't"),
             (" 'm", "'m"), (" 's", "'s"), (" 've", "'ve"), (" 're", "'re"))


def clean_up_tokenization(text: str, contract_do_not: bool = False) -> str:
    """transformers' clean-up of spaces before punctuation and English contractions.

    `contract_do_not`: also ``" do not"`` -> ``" don't"``, as the WordPiece decoder of
    `tokenizers` does (its list has that one more; no replacement interacts with it, so its
    place in the list does not matter).
    """
    for old, new in _CLEAN_UP:
        text = text.replace(old, new)
    return text.replace(" do not", " don't") if contract_do_not else text


@dataclass
class TemplatePostProcessor:
    """Puts special tokens around one sequence or a pair, from a template.

    A template is a list of items: ``("A", type_id)`` / ``("B", type_id)`` for the sequences and
    ``(token_string, type_id)`` for a special token. RoBERTa's pair template is
    ``<s> A </s> </s> B </s>``, i.e. ``[("<s>",0), ("A",0), ("</s>",0), ("</s>",0), ("B",0), ("</s>",0)]``.
    GPT-2's templates are just ``[("A", 0)]`` and ``[("A", 0), ("B", 1)]``: it adds nothing.
    `trim_offsets`/`add_prefix_space` are read by byte-level tokenizers (RoBERTa and GPT-2
    processors may remove the spaces from token offsets; see ``bpe.py``).
    """
    single: list[tuple[str, int]] = field(default_factory=lambda: [("A", 0)])
    pair: list[tuple[str, int]] = field(default_factory=lambda: [("A", 0), ("B", 1)])
    trim_offsets: bool = False
    add_prefix_space: bool = False
    kind: str = "ByteLevel"     # the tokenizer.json "type" this came from (for saving)
    ids: dict[str, int] = field(default_factory=dict)   # special token -> id, when the file says

    @classmethod
    def bert(cls, cls_token: str | None, sep_token: str | None) -> "TemplatePostProcessor":
        """``[CLS] A [SEP]`` and ``[CLS] A [SEP] B [SEP]`` (type ids 0 ... 0 1 ... 1); nothing
        added when either token is missing."""
        if cls_token is None or sep_token is None:
            return cls(kind="TemplateProcessing")
        return cls(single=[(cls_token, 0), ("A", 0), (sep_token, 0)],
                   pair=[(cls_token, 0), ("A", 0), (sep_token, 0), ("B", 1), (sep_token, 1)],
                   kind="TemplateProcessing")

    @classmethod
    def roberta(cls, cls_token: str, sep_token: str, trim_offsets: bool = True,
                add_prefix_space: bool = False) -> "TemplatePostProcessor":
        """``<s> A </s>`` and ``<s> A </s></s> B </s>``, all type ids 0 (RobertaProcessing)."""
        return cls(single=[(cls_token, 0), ("A", 0), (sep_token, 0)],
                   pair=[(cls_token, 0), ("A", 0), (sep_token, 0), (sep_token, 0), ("B", 0), (sep_token, 0)],
                   trim_offsets=trim_offsets, add_prefix_space=add_prefix_space, kind="RobertaProcessing")

    def num_special_tokens_to_add(self, pair: bool) -> int:
        return sum(1 for name, _ in (self.pair if pair else self.single) if name not in ("A", "B"))

    def apply(self, a: Encoding, b: Encoding | None, add_special_tokens: bool,
              token_to_id: Callable[[str], int | None]) -> Encoding:
        """Special tokens + sequences from the template (or just A, B without special tokens);
        a special token's id comes from the file (`ids`) or else from `token_to_id`."""
        if not add_special_tokens:
            template = [("A", 0)] + ([("B", 1)] if b is not None else [])
            keep_type_ids = True
        else:
            template = self.pair if b is not None else self.single
            keep_type_ids = False
        out = Encoding()
        for name, type_id in template:
            if name in ("A", "B"):
                seq = a if name == "A" else b
                out.ids += seq.ids
                out.tokens += seq.tokens
                out.offsets += seq.offsets
                out.word_ids += seq.word_ids
                out.type_ids += seq.type_ids if keep_type_ids else [type_id] * len(seq)
                out.special_tokens_mask += seq.special_tokens_mask
                out.sequence_ids += [0 if name == "A" else 1] * len(seq)
            else:
                token_id = self.ids.get(name)
                out.ids.append(token_to_id(name) if token_id is None else token_id)
                out.tokens.append(name)
                out.offsets.append((0, 0))
                out.word_ids.append(None)
                out.type_ids.append(type_id)
                out.special_tokens_mask.append(1)
                out.sequence_ids.append(None)
        out.attention_mask = [1] * len(out.ids)
        return out

    # ---- tokenizer.json -------------------------------------------------------------------
    @classmethod
    def from_json(cls, spec: dict | None, path: Path) -> "TemplatePostProcessor":
        """tokenizer.json's ``post_processor``: ByteLevel, RobertaProcessing, BertProcessing,
        TemplateProcessing, or a Sequence of them (None: nothing is added)."""
        proc = cls(kind="ByteLevel")
        if spec is None:
            proc.kind = "None"
            return proc
        steps = spec.get("processors", []) if spec.get("type") == "Sequence" else [spec]
        for step in steps:
            kind = step.get("type")
            if kind == "ByteLevel":
                proc.trim_offsets = bool(step.get("trim_offsets", True))
                proc.add_prefix_space = bool(step.get("add_prefix_space", True))
            elif kind in ("RobertaProcessing", "BertProcessing"):
                cls_tok, cls_id = step["cls"]
                sep_tok, sep_id = step["sep"]
                proc.ids.update({cls_tok: cls_id, sep_tok: sep_id})
                template = cls.roberta(cls_tok, sep_tok) if kind == "RobertaProcessing" \
                    else cls.bert(cls_tok, sep_tok)
                proc.single, proc.pair = template.single, template.pair
                if kind == "RobertaProcessing":
                    proc.trim_offsets = bool(step.get("trim_offsets", True))
                    proc.add_prefix_space = bool(step.get("add_prefix_space", True))
                proc.kind = kind
            elif kind == "TemplateProcessing":
                specials = step.get("special_tokens", {})

                def items(template: list[dict]) -> list[tuple[str, int]]:
                    out = []
                    for item in template:
                        if "Sequence" in item:
                            out.append((item["Sequence"]["id"], item["Sequence"].get("type_id", 0)))
                            continue
                        name, type_id = item["SpecialToken"]["id"], item["SpecialToken"].get("type_id", 0)
                        entry = specials.get(name, {"ids": [None], "tokens": [name]})
                        for token, token_id in zip(entry["tokens"], entry["ids"]):
                            if token_id is not None:
                                proc.ids[token] = token_id
                            out.append((token, type_id))
                    return out

                proc.single, proc.pair = items(step["single"]), items(step["pair"])
                proc.kind = "TemplateProcessing"
            else:
                raise ValueError(f"{path}: post_processor type {kind!r} is not supported (minitf knows "
                                 f"ByteLevel, RobertaProcessing, BertProcessing, TemplateProcessing)")
        return proc

    def to_json(self, token_to_id: Callable[[str], int | None], byte_level: bool) -> dict | None:
        """The ``post_processor`` of tokenizer.json. `byte_level` tokenizers (GPT-2, RoBERTa)
        also write the ByteLevel processor, which trims the spaces from the offsets."""
        def token_id(name: str) -> int | None:
            return self.ids.get(name, token_to_id(name))

        if self.kind == "None":
            return None
        if self.kind == "RobertaProcessing":
            cls_tok, sep_tok = self.single[0][0], self.single[-1][0]
            return {"type": "RobertaProcessing", "sep": [sep_tok, token_id(sep_tok)],
                    "cls": [cls_tok, token_id(cls_tok)], "trim_offsets": self.trim_offsets,
                    "add_prefix_space": self.add_prefix_space}

        def items(template: list[tuple[str, int]]) -> list[dict]:
            return [{"Sequence": {"id": n, "type_id": t}} if n in ("A", "B")
                    else {"SpecialToken": {"id": n, "type_id": t}} for n, t in template]

        names = sorted({n for n, _ in self.single + self.pair if n not in ("A", "B")})
        template = {"type": "TemplateProcessing", "single": items(self.single), "pair": items(self.pair),
                    "special_tokens": {n: {"id": n, "ids": [token_id(n)], "tokens": [n]} for n in names}}
        if not byte_level:
            return template
        trim = {"type": "ByteLevel", "add_prefix_space": self.add_prefix_space,
                "trim_offsets": self.trim_offsets, "use_regex": True}
        if self.single == [("A", 0)] and self.pair == [("A", 0), ("B", 1)]:
            return trim
        return {"type": "Sequence", "processors": [trim, template]} if self.trim_offsets else template
