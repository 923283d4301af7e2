"""Byte-level BPE (minitf.tokenizers) against the Hugging Face `tokenizers` library.

The reference is `tokenizers.Tokenizer` loaded from the same files: ids, tokens, offsets and
decoded text must be identical, on a varied corpus and on random text (hypothesis). The rest
checks the transformers-style interface (batches, padding, truncation, tensors), training,
saving, and that bad input gives errors that name the thing at fault.
Needs the real GPT-2 tokenizer files: `make weights`.
"""
from __future__ import annotations

import doctest
import json
import re
import shutil
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from tokenizers import AddedToken as RefAddedToken
from tokenizers import Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors

from minitf.tokenizers import (
    AutoTokenizer, BatchEncoding, ByteLevelBPETokenizer, GPT2Tokenizer, PreTrainedTokenizer,
)
from minitf.tokenizers import bpe as bpe_module
from minitf.tokenizers.unicode import WHITESPACE, char_class

ROOT = Path(__file__).parents[1]
GPT2_DIR = ROOT / "weights/real/gpt2-tokenizer"
CORPUS_FILE = Path(__file__).parent / "data/bpe_corpus.txt"

# Texts that exercise every branch of the pre-tokenizer and of the byte-level offsets.
CORPUS = [
    "Hello world",
    "The quick brown fox jumps over the lazy dog. It was 3:45pm on 2024-01-15!",
    "def f(x):\n    return x ** 2  # square\n\n\tif x:\n\t\tpass\n",
    "    indented = {'a': [1, 2, 3], \"b\": None}\n",
    "Numbers 0 1 12 123 1234 12345 3.14159 1,000,000 1e-10 -5 +7 0xFF ٣٤٥ ४२ 五",
    "it's don't we're you've I'm they'll he'd IT'S DON'T WE'RE I'M 'S 'T 'd",
    "'s at start, ''double'' quotes, 'quoted words', rock 'n' roll, o'clock",
    "spaces  two   three    four     end   ",
    "tabs\tand\t\tnewlines\n\nand\r\nwindows\r\n line ends \n ",
    "   leading spaces",
    "trailing spaces   ",
    " ",
    "\n",
    "",
    "emoji 😀😂🤣 👍🏽 👍🏿 👩‍💻 👨‍👩‍👧‍👦 🏳️‍🌈 ❤️ 🇫🇷🇩🇪 ⭢j",
    "accents composed é è ê ë ñ ü and decomposed e\u0301 e\u0300 n\u0303 u\u0308",
    "CJK 日本語のテキスト 中文文本 한국어 문장",
    "Arabic مرحبا بالعالم and Devanagari नमस्ते दुनिया",
    "Greek Γειά σου and Cyrillic Привет, мир!",
    "control \x00\x01\x07\x08\x1b\x7f chars",
    "separators a\x1cb\x1dc\x1ed\x1fe",
    "odd spaces a\x85b\xa0c\u1680d\u2000e\u2009f\u200ag\u2028h\u2029i\u202fj\u205fk\u3000l",
    "zero width a\u200bb\u200cc\u200dd\ufeffe",
    "a\x85\x85 b\xa0\xa0c  \u3000\u3000d\u2028",
    "before<|endoftext|>after",
    "<|endoftext|>",
    "x <|endoftext|> y<|endoftext|><|endoftext|> z",
    "<|endoftext|<|endoftext|>|>",
    "a" * 3000,
    "Pneumonoultramicroscopicsilicovolcanoconiosis " * 20,
    "😀" * 500,
    "https://huggingface.co/docs/transformers/main_classes/tokenizer?x=1&y=2#top",
    "email@example.com, @user #hashtag $100 50% a+b=c (x) [y] {z} <tag/>",
    "Punctuation!!! ??? ... --- ___ *** ~~~ ``` ''' \"\"\"",
    "new Unicode 16 letters \U00031350\U00031351 and digits \U00010D40\U00010D41 here",
    "unassigned \U000E0080 and private use \ue000\U000F0000 and noncharacter \uffff",
]


@pytest.fixture(scope="module")
def gpt2_dir() -> Path:
    if not (GPT2_DIR / "tokenizer.json").is_file():
        pytest.fail(f"the real GPT-2 tokenizer files are missing from {GPT2_DIR}: run `make weights` "
                    f"(python weights/fetch.py gpt2-tokenizer)")
    return GPT2_DIR


@pytest.fixture(scope="module")
def ref(gpt2_dir) -> Tokenizer:
    return Tokenizer.from_file(str(gpt2_dir / "tokenizer.json"))


@pytest.fixture(scope="module")
def tok(gpt2_dir) -> ByteLevelBPETokenizer:
    """Shared, read-only: tests that change settings use `fresh` instead."""
    return AutoTokenizer.from_pretrained(gpt2_dir)


@pytest.fixture(scope="module")
def vm_dir(gpt2_dir, tmp_path_factory) -> Path:
    """The same tokenizer as vocab.json + merges.txt + tokenizer_config.json only."""
    folder = tmp_path_factory.mktemp("gpt2-vocab-merges")
    for name in ("vocab.json", "merges.txt", "tokenizer_config.json"):
        shutil.copy(gpt2_dir / name, folder / name)
    return folder


@pytest.fixture()
def fresh(vm_dir) -> ByteLevelBPETokenizer:
    return AutoTokenizer.from_pretrained(vm_dir)


def encode_ref(ref: Tokenizer, text: str, pair: str | None = None):
    e = ref.encode(text, pair) if pair is not None else ref.encode(text)
    return e.ids, e.tokens, [tuple(o) for o in e.offsets]


def encode_mine(tok: PreTrainedTokenizer, text: str, pair: str | None = None):
    enc = tok(text, pair, return_offsets_mapping=True, verbose=False)
    return enc["input_ids"], enc.tokens(), enc["offset_mapping"]


# ----------------------------------------------------------------------------------------------
# The worked example of the module docstring
# ----------------------------------------------------------------------------------------------
def test_hello_world_worked_example(tok):
    assert isinstance(tok, ByteLevelBPETokenizer) and GPT2Tokenizer is ByteLevelBPETokenizer
    assert tok.tokenize("Hello world") == ["Hello", "Ġworld"]
    assert tok.encode("Hello world") == [15496, 995]
    enc = tok("Hello world", return_offsets_mapping=True)
    assert isinstance(enc, BatchEncoding)
    assert enc.input_ids == [15496, 995] and enc.attention_mask == [1, 1]
    assert enc.offset_mapping == [(0, 5), (5, 11)]     # " world" keeps its space, as tokenizers
    assert tok.decode([15496, 995]) == "Hello world"
    assert bpe_module.bytes_to_unicode()[ord(" ")] == "Ġ"
    assert bpe_module.BYTE_SYMBOLS[220] == "Ġ" and tok.vocab["Ġ"] == 220


def test_docstring_examples_run():
    # bytes_to_unicode, pre_tokenize and the worked training example in bpe.py
    for module in (bpe_module,):
        result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
        assert result.failed == 0 and result.attempted >= 6


# ----------------------------------------------------------------------------------------------
# Parity with the reference on the real GPT-2 vocabulary
# ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("text", CORPUS, ids=range(len(CORPUS)))
def test_parity_tokenizer_json(tok, ref, text):
    assert encode_mine(tok, text) == encode_ref(ref, text)
    assert tok.decode(tok.encode(text)) == text


def test_parity_corpus_file_and_pairs(tok, ref):
    text = CORPUS_FILE.read_text(encoding="utf-8")
    assert encode_mine(tok, text) == encode_ref(ref, text)
    lines = text.splitlines(keepends=True)
    for a, b in zip(lines, lines[1:]):
        assert encode_mine(tok, a, b) == encode_ref(ref, a, b)


def test_parity_vocab_merges_loading(vm_dir, ref):
    """vocab.json + merges.txt give the same tokenizer as tokenizer.json, and the same as a
    `tokenizers` BPE built from those two files."""
    mine = AutoTokenizer.from_pretrained(vm_dir)
    built = Tokenizer(models.BPE.from_file(str(vm_dir / "vocab.json"), str(vm_dir / "merges.txt")))
    built.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    built.decoder = decoders.ByteLevel()
    built.post_processor = processors.ByteLevel(trim_offsets=False)
    built.add_special_tokens(["<|endoftext|>"])
    assert mine.all_special_tokens == ["<|endoftext|>"] and mine.model_max_length == 1024
    for text in [*CORPUS, CORPUS_FILE.read_text(encoding="utf-8")]:
        expected = encode_ref(ref, text)
        assert encode_mine(mine, text) == expected
        assert encode_ref(built, text) == expected


def test_tiny_gpt2_fixture_parity():
    folder = ROOT / "weights/tiny-gpt2"
    if not (folder / "tokenizer.json").is_file():
        pytest.skip(f"{folder} not present (weights/make_fixtures.py makes it)")
    ref = Tokenizer.from_file(str(folder / "tokenizer.json"))
    mine = AutoTokenizer.from_pretrained(folder)
    for text in CORPUS[:20]:
        assert encode_mine(mine, text) == encode_ref(ref, text)


def test_char_classes_match_oniguruma():
    """The scanner's letter / number / whitespace classes equal those of the reference's regex
    engine (Oniguruma) on every code point of planes 0-3 and 14 (all assigned characters but
    private use) and a sample of the rest: a Replace normalizer runs that engine for us."""
    cps = [c for c in [*range(0x40000), *range(0xE0000, 0xE1000), *range(0x40000, 0x110000, 97)]
           if not 0xD800 <= c <= 0xDFFF]
    text = "".join(map(chr, cps))
    # Letters -> "L", then numbers -> "N", then whitespace -> "S" ("L", "N", "S" are letters).
    marked = normalizers.Sequence([normalizers.Replace(Regex(r"\p{L}"), "L"),
                                   normalizers.Replace(Regex(r"\p{N}"), "N"),
                                   normalizers.Replace(Regex(r"\s"), "S")]).normalize_str(text)
    expected = re.sub("[^LNS]", "P", marked)
    got = text.translate(bpe_module._CLASS_TABLE)
    if got != expected:
        mismatches = [(hex(c), g, e) for c, g, e in zip(cps, got, expected) if g != e]
        pytest.fail(f"{len(mismatches)} code points classified differently: {mismatches[:20]}")
    assert {ch for ch, e in zip(text, expected) if e == "S"} == WHITESPACE


@pytest.mark.parametrize("ch", ["\x1c", "\x1d", "\x1e", "\x1f", "\x85", "\xa0", "\u1680", "\u2000",
                                "\u200b", "\u2028", "\u2029", "\u202f", "\u3000", "\ufeff", "\t", "\x0b"])
def test_whitespace_definition(tok, ref, ch):
    # \x1c-\x1f are str.isspace() in Python but not \s for the reference; \u200b is neither.
    assert char_class(ch) == ("P" if ch in "\x1c\x1d\x1e\x1f\u200b\ufeff" else "S")
    for text in (f"a{ch}b", f"a{ch}{ch}b", f"a {ch} b", f"a{ch} b", f"{ch}", f"x{ch}{ch}", f"{ch} 's"):
        assert encode_mine(tok, text) == encode_ref(ref, text)


def test_very_long_word_is_fast(tok, ref):
    text = "ab" * 50_000 + " " + "é" * 20_000
    start = time.perf_counter()
    ids = tok.encode(text, verbose=False)
    assert time.perf_counter() - start < 5          # the heap keeps BPE O(n log n)
    assert ids == ref.encode(text).ids


# ----------------------------------------------------------------------------------------------
# Property tests
# ----------------------------------------------------------------------------------------------
TRICKY = ["'s", "'S", "'ll", " ", "  ", "\t", "\n", "\r\n", "\x85", "\xa0", "\u3000", "\x1c",
          "<|endoftext|>", "é", "e\u0301", "😀", "👍🏽", "👩\u200d💻", "\u200d", "日本", "١٢", "\u0903",
          "\U00031350", "\U00010D40", "0", "a", "Z", "!", "_", "$"]
texts = st.lists(st.one_of(st.text(max_size=8), st.sampled_from(TRICKY),
                           st.text(st.characters(categories=["L", "M", "N", "Z", "Cc", "Cf", "Cn", "Co",
                                                             "P", "S"]), max_size=6)),
                 max_size=12).map("".join)


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_roundtrip_any_unicode(tok, text):
    assert tok.decode(tok.encode(text, verbose=False)) == text


@settings(max_examples=300, deadline=None)
@given(texts)
def test_roundtrip_and_parity_random_text(tok, ref, text):
    ids, tokens, offsets = encode_mine(tok, text)
    assert (ids, tokens, offsets) == encode_ref(ref, text)
    assert tok.decode(ids) == text


@settings(max_examples=300, deadline=None)
@given(st.lists(st.integers(0, 50256), max_size=12), st.lists(st.integers(0, 255), max_size=12))
def test_decode_any_ids_matches_reference(tok, ref, ids, byte_ids):
    # Byte tokens alone often form invalid UTF-8: U+FFFD exactly where Rust puts it.
    for seq in (ids, byte_ids, byte_ids + ids):
        assert tok.decode(seq) == ref.decode(seq, skip_special_tokens=False)
        assert tok.decode(seq, skip_special_tokens=True) == ref.decode(seq, skip_special_tokens=True)


# ----------------------------------------------------------------------------------------------
# RoBERTa-style files: RobertaProcessing, TemplateProcessing, lstrip/rstrip/single_word tokens
# ----------------------------------------------------------------------------------------------
def _roberta_like(gpt2_dir: Path, post: str) -> Tokenizer:
    t = Tokenizer.from_file(str(gpt2_dir / "tokenizer.json"))
    t.add_special_tokens([RefAddedToken("<s>", special=True, normalized=False),
                          RefAddedToken("</s>", special=True, normalized=False),
                          RefAddedToken("<pad>", special=True, normalized=False),
                          RefAddedToken("<mask>", lstrip=True, special=True, normalized=False)])
    t.add_tokens([RefAddedToken("[X]", single_word=True, rstrip=True), RefAddedToken("new word"),
                  RefAddedToken(" é", normalized=False)])
    t.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=True)
    s, e = ("<s>", t.token_to_id("<s>")), ("</s>", t.token_to_id("</s>"))
    t.post_processor = {
        "roberta": processors.RobertaProcessing(e, s, trim_offsets=True, add_prefix_space=True),
        "template": processors.TemplateProcessing(single="<s> $A </s>", pair="<s> $A </s> $B:1 </s>:1",
                                                  special_tokens=[s, e]),
        "bytelevel_trim": processors.ByteLevel(trim_offsets=True),
    }[post]
    return t


PAIR_TEXTS = ["Hello  <mask> x", "a [X]  b a[X] [X]", "new word é and new words", "x<s>y</s>",
              "🤖<mask>", "", "  two", "x<|endoftext|>é", "é  ", "[X]\U00031350 [X]"]


@pytest.mark.parametrize("post", ["roberta", "template", "bytelevel_trim"])
def test_parity_roberta_style(gpt2_dir, tmp_path, post):
    reference = _roberta_like(gpt2_dir, post)
    reference.save(str(tmp_path / "tokenizer.json"))
    (tmp_path / "tokenizer_config.json").write_text(json.dumps(
        {"tokenizer_class": "RobertaTokenizer", "bos_token": "<s>", "eos_token": "</s>",
         "sep_token": "</s>", "cls_token": "<s>", "pad_token": "<pad>", "mask_token": "<mask>",
         "model_max_length": 512}))
    mine = AutoTokenizer.from_pretrained(tmp_path)
    for a in PAIR_TEXTS + CORPUS[:12]:
        for b in (None, "pair  text<mask>", "", "[X]"):
            e = reference.encode(a, b) if b is not None else reference.encode(a)
            enc = mine(a, b, return_offsets_mapping=True, return_token_type_ids=True,
                       return_special_tokens_mask=True)
            assert enc.input_ids == e.ids and enc.tokens() == e.tokens
            assert enc.offset_mapping == [tuple(o) for o in e.offsets]
            assert enc.token_type_ids == e.type_ids
            assert enc.special_tokens_mask == e.special_tokens_mask
            assert enc.word_ids() == e.word_ids
            for skip in (False, True):
                assert mine.decode(e.ids, skip_special_tokens=skip) == \
                    reference.decode(e.ids, skip_special_tokens=skip)


def test_roberta_vocab_merges_folder(gpt2_dir, tmp_path):
    """A RoBERTa folder without tokenizer.json: `<s> A </s></s> B </s>`, `<mask>` with lstrip."""
    vocab = json.loads((gpt2_dir / "vocab.json").read_text(encoding="utf-8"))
    for token in ("<s>", "<pad>", "</s>", "<unk>", "<mask>"):
        vocab[token] = len(vocab)
    (tmp_path / "vocab.json").write_text(json.dumps(vocab))
    shutil.copy(gpt2_dir / "merges.txt", tmp_path / "merges.txt")
    (tmp_path / "tokenizer_config.json").write_text(json.dumps({"tokenizer_class": "RobertaTokenizer"}))
    mine = AutoTokenizer.from_pretrained(tmp_path)
    reference = Tokenizer(models.BPE.from_file(str(tmp_path / "vocab.json"), str(tmp_path / "merges.txt")))
    reference.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    reference.decoder = decoders.ByteLevel()
    reference.add_special_tokens([RefAddedToken(t, special=True, normalized=False)
                                  for t in ("<s>", "</s>", "<unk>", "<pad>")] +
                                 [RefAddedToken("<mask>", lstrip=True, special=True, normalized=False)])
    reference.post_processor = processors.RobertaProcessing(
        ("</s>", vocab["</s>"]), ("<s>", vocab["<s>"]), trim_offsets=True, add_prefix_space=False)
    assert mine.all_special_tokens == ["<s>", "</s>", "<unk>", "<pad>", "<mask>"]
    assert (mine.cls_token, mine.sep_token, mine.mask_token_id) == ("<s>", "</s>", vocab["<mask>"])
    for a, b in [("Hello world", None), ("The <mask> sat.", "On the  mat "), ("", ""), ("a", "b")]:
        assert encode_mine(mine, a, b) == encode_ref(reference, a, b)
    s, e = vocab["<s>"], vocab["</s>"]
    assert mine("Hi", "there").input_ids == [s, 17250, e, e, mine.vocab["there"], e]


def test_truncation_matches_reference(gpt2_dir, tmp_path):
    """Special tokens count towards max_length; 'longest_first' shares the rest like tokenizers."""
    mine = AutoTokenizer.from_pretrained(gpt2_dir)      # GPT-2: no special tokens added
    gpt2_ref = Tokenizer.from_file(str(gpt2_dir / "tokenizer.json"))
    reference = _roberta_like(gpt2_dir, "template")     # <s> A </s> B </s>: 2 or 3 added
    reference.save(str(tmp_path / "tokenizer.json"))
    templ = AutoTokenizer.from_pretrained(tmp_path)
    a, b = "one two three four five six seven", "eight nine ten"
    for tk, rf in ((mine, gpt2_ref), (templ, reference)):
        for side in ("right", "left"):
            tk.truncation_side = side
            for strategy in ("longest_first", "only_first", "only_second"):
                for max_length in (3, 4, 5, 7, 9, 12, 30):
                    for pair in (None, b, a):
                        rf.enable_truncation(max_length, strategy=strategy, direction=side)
                        try:
                            expected = encode_ref(rf, a, pair)
                        except Exception:
                            expected = None
                        finally:
                            rf.no_truncation()
                        if expected is None:
                            with pytest.raises(ValueError, match="truncation"):
                                tk(a, pair, truncation=strategy, max_length=max_length)
                        else:
                            enc = tk(a, pair, truncation=strategy, max_length=max_length,
                                     return_offsets_mapping=True)
                            assert (enc.input_ids, enc.tokens(), enc.offset_mapping) == expected


# ----------------------------------------------------------------------------------------------
# The transformers-style interface
# ----------------------------------------------------------------------------------------------
def test_batch_padding_and_tensors(fresh):
    tok = fresh
    with pytest.raises(ValueError, match="pad_token"):
        tok(["Hello world", "Hi"], padding=True)
    tok.pad_token = tok.eos_token                     # the usual GPT-2 idiom
    assert tok.pad_token_id == 50256
    enc = tok(["Hello world", "Hi"], padding=True, return_tensors="np", return_offsets_mapping=True)
    assert enc.input_ids.dtype == np.int64 and enc.input_ids.shape == (2, 2)
    assert enc.input_ids.tolist() == [[15496, 995], [17250, 50256]]
    assert enc.attention_mask.tolist() == [[1, 1], [1, 0]]
    assert enc.offset_mapping.shape == (2, 2, 2) and enc.offset_mapping[1, 1].tolist() == [0, 0]
    assert set(enc) == {"input_ids", "attention_mask", "offset_mapping"}

    enc = tok(["Hello world", "Hi"], padding="max_length", max_length=5, return_length=True)
    assert enc.input_ids[1] == [17250] + [50256] * 4 and enc.length == [5, 5]
    assert tok(["a b c d e", "x"], padding=True, pad_to_multiple_of=4).input_ids[1] == [87] + [50256] * 7

    tok.padding_side = "left"
    enc = tok(["Hello world", "Hi"], padding=True)
    assert enc.input_ids == [[15496, 995], [50256, 17250]] and enc.attention_mask[1] == [0, 1]
    assert tok(["Hello world", "Hi"], padding=True, padding_side="right").input_ids[1] == [17250, 50256]

    with pytest.raises(ValueError, match="padding=True"):      # ragged + tensors
        tok(["Hello world", "Hi"], return_tensors="np")
    single = tok("Hello world", return_tensors="np", return_length=True)
    assert single.input_ids.shape == (1, 2) and single.length.tolist() == [2]
    assert tok("Hello world", return_length=True).length == [2]           # as transformers
    assert tok("Hi", padding=True).input_ids == [17250]                   # one text: nothing to pad
    assert tok("Hello world", return_attention_mask=False) == {"input_ids": [15496, 995]}


def test_left_padding_from_pretrained(vm_dir):
    tok = AutoTokenizer.from_pretrained(vm_dir, padding_side="left", pad_token="<|endoftext|>")
    assert tok.padding_side == "left"
    assert tok(["a b", "c"], padding=True).input_ids == [[64, 275], [50256, 66]]


def test_truncation_options(fresh):
    tok = fresh
    long_text = "word " * 2000
    assert len(tok(long_text, truncation=True).input_ids) == tok.model_max_length == 1024
    assert tok("one two three four", max_length=2).input_ids == [505, 734]   # implies truncation
    tok.truncation_side = "left"
    assert tok("one two three four", truncation=True, max_length=2).input_ids == [1115, 1440]
    pair = tok("one two three four five", "six seven", truncation="only_first", max_length=4)
    assert pair.input_ids == [1440, 1936, 19412, 3598]


def test_pairs_and_token_type_ids(tok):
    enc = tok("Hello", "world", return_token_type_ids=True)
    assert enc.input_ids == tok.encode("Hello") + tok.encode("world")
    assert enc.token_type_ids == [0, 1]
    batch = tok(["a", "b c"], ["x", "y"])
    assert batch.input_ids == [[64, 87], [65, 269, 88]]
    assert tok([("a", "x"), ("b c", "y")]).input_ids == batch.input_ids
    assert tok("Hello world", add_special_tokens=False).input_ids == [15496, 995]


def test_vocabulary_api(tok):
    assert len(tok) == tok.vocab_size == 50257
    assert tok.get_vocab()["Ġworld"] == 995 and len(tok.get_vocab()) == 50257
    assert tok.all_special_tokens == ["<|endoftext|>"] and tok.all_special_ids == [50256]
    assert (tok.bos_token, tok.eos_token, tok.unk_token, tok.pad_token) == \
        ("<|endoftext|>", "<|endoftext|>", "<|endoftext|>", None)
    assert tok.eos_token_id == 50256 and tok.pad_token_id is None
    assert tok.convert_tokens_to_ids("Ġworld") == 995
    assert tok.convert_tokens_to_ids(["Hello", "not-a-token-xyz"]) == [15496, 50256]   # unk
    assert tok.convert_ids_to_tokens(995) == "Ġworld"
    assert tok.convert_ids_to_tokens(np.array([15496, 995, 50256]), skip_special_tokens=True) == \
        ["Hello", "Ġworld"]
    assert tok.convert_tokens_to_string(["Hello", "Ġworld"]) == "Hello world"
    assert tok.decode(np.array([15496, 995])) == "Hello world" and tok.decode(995) == " world"
    assert tok.decode(np.int64(995)) == " world"
    assert tok.batch_decode(np.array([[15496, 995], [15496, 50256]]), skip_special_tokens=True) == \
        ["Hello world", "Hello"]
    assert tok.decode(tok.encode("Hello , world")) == "Hello , world"     # no clean-up for GPT-2
    assert tok.decode(tok.encode("Hello , world"), clean_up_tokenization_spaces=True) == "Hello, world"
    assert tok.model_max_length == 1024 and tok.num_special_tokens_to_add() == 0


def test_added_tokens_match_reference(gpt2_dir, fresh):
    reference = Tokenizer.from_file(str(gpt2_dir / "tokenizer.json"))
    assert fresh.add_tokens(["minitf", "<new tok>", "Hello"]) == 2     # "Hello" already exists
    reference.add_tokens(["minitf", "<new tok>", "Hello"])
    assert fresh.add_special_tokens({"pad_token": "[PAD]", "additional_special_tokens": ["<x>"]}) == 2
    reference.add_special_tokens(["[PAD]", "<x>"])
    assert len(fresh) == reference.get_vocab_size() == 50261
    assert fresh.pad_token == "[PAD]" and fresh.pad_token_id == 50259
    assert fresh.all_special_tokens == ["<|endoftext|>", "[PAD]", "<x>"]
    for text in ["I like minitf<new tok>[PAD]<x> a lot", "Hello minitfHello", "<x><x>"]:
        assert encode_mine(fresh, text) == encode_ref(reference, text)
        ids = fresh.encode(text)
        for skip in (False, True):
            assert fresh.decode(ids, skip_special_tokens=skip) == \
                reference.decode(ids, skip_special_tokens=skip)


def test_add_prefix_space_option(vm_dir):
    tok = AutoTokenizer.from_pretrained(vm_dir, add_prefix_space=True)
    reference = Tokenizer.from_file(str(GPT2_DIR / "tokenizer.json"))
    reference.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=True)
    assert tok.tokenize("Hello world") == ["ĠHello", "Ġworld"]
    for text in ["Hello world", " already", "x<|endoftext|>y", "é", ""]:
        assert encode_mine(tok, text) == encode_ref(reference, text)


# ----------------------------------------------------------------------------------------------
# Training and saving
# ----------------------------------------------------------------------------------------------
def test_train_small_corpus(tmp_path):
    corpus = CORPUS_FILE.read_text(encoding="utf-8")
    tok = ByteLevelBPETokenizer.train(corpus.splitlines(), vocab_size=256 + 300 + 1)
    assert len(tok) == 557 and len(tok.merges) == 300
    assert tok.eos_token == "<|endoftext|>" and tok.eos_token_id == 556
    # The first merge is the most frequent adjacent pair over the pre-tokenized words.
    counts: dict[tuple[str, str], int] = {}
    for piece in corpus.replace("<|endoftext|>", "\n").splitlines():
        for s, e in bpe_module.pre_tokenize(piece):
            word = bpe_module.to_byte_symbols(piece[s:e])
            for pair in zip(word, word[1:]):
                counts[pair] = counts.get(pair, 0) + 1
    best = max(counts.values())
    assert tok.merges[0] == min(p for p, c in counts.items() if c == best)
    assert ("Ġ", "t") in tok.merges[:20] and "Ġthe" in tok.vocab
    assert not any("<|" in t for t in tok.vocab if t != "<|endoftext|>")   # special never learned
    assert tok.tokenize("the tokenizer<|endoftext|>") [-1] == "<|endoftext|>"
    for text in [corpus, "unseen words: zyzzyva, ÆØÅ, 🤖🤖", ""]:
        assert tok.decode(tok.encode(text)) == text
    assert ByteLevelBPETokenizer.train(corpus.splitlines(), 256 + 300 + 1).merges == tok.merges

    tok.save_pretrained(tmp_path)
    assert {"vocab.json", "merges.txt", "tokenizer.json", "tokenizer_config.json"} <= \
        {p.name for p in tmp_path.iterdir()}
    reference = Tokenizer.from_file(str(tmp_path / "tokenizer.json"))
    reloaded = AutoTokenizer.from_pretrained(tmp_path)
    for text in [corpus, "unseen words: zyzzyva, ÆØÅ, 🤖🤖 <|endoftext|>x"]:
        expected = encode_ref(reference, text)
        assert encode_mine(tok, text) == expected
        assert encode_mine(reloaded, text) == expected
    (tmp_path / "tokenizer.json").unlink()                                # vocab.json + merges.txt
    assert AutoTokenizer.from_pretrained(tmp_path).encode(corpus) == tok.encode(corpus)


def test_save_and_reload_real_gpt2(tok, ref, tmp_path):
    tok.save_pretrained(tmp_path)
    reference = Tokenizer.from_file(str(tmp_path / "tokenizer.json"))
    reloaded = AutoTokenizer.from_pretrained(tmp_path)
    assert reloaded.model_max_length == 1024 and reloaded.all_special_ids == [50256]
    text = CORPUS_FILE.read_text(encoding="utf-8")
    assert encode_ref(reference, text) == encode_ref(ref, text) == encode_mine(reloaded, text)


def test_train_rejects_bad_input():
    with pytest.raises(ValueError, match="vocab_size=100"):
        ByteLevelBPETokenizer.train("abc", vocab_size=100)
    with pytest.raises(TypeError, match="int at item 1"):
        ByteLevelBPETokenizer.train(["abc", 5], vocab_size=300)


# ----------------------------------------------------------------------------------------------
# Errors that name the thing at fault
# ----------------------------------------------------------------------------------------------
def test_decode_errors(tok):
    with pytest.raises(ValueError, match=r"token id 50257 .*vocab size 50257"):
        tok.decode([15496, 50257])
    with pytest.raises(ValueError, match=r"token id -1 is negative"):
        tok.decode([15496, -1])
    with pytest.raises(TypeError, match="str"):
        tok.decode(["Hello"])
    with pytest.raises(TypeError, match="float64"):
        tok.decode(np.array([1.0, 2.0]))
    with pytest.raises(ValueError, match="batch_decode"):
        tok.decode(np.zeros((2, 3), dtype=np.int64))
    with pytest.raises(ValueError, match="token id 99999"):
        tok.convert_ids_to_tokens([99999])


def test_text_type_errors(tok):
    with pytest.raises(TypeError, match="got int"):
        tok(123)
    with pytest.raises(TypeError, match=r"text\[1\] must be a str, got NoneType"):
        tok(["ok", None])
    with pytest.raises(TypeError, match=r"text_pair\[0\] must be a str, got bytes"):
        tok(["ok"], [b"bytes"])
    with pytest.raises(TypeError, match="got bytes"):
        tok.encode(b"bytes")
    with pytest.raises(ValueError, match="text has 2 items but text_pair has 1"):
        tok(["a", "b"], ["c"])


def test_argument_errors(tok):
    with pytest.raises(ValueError, match=r"padding must be one of .*got 'yes'"):
        tok("a", padding="yes")
    with pytest.raises(ValueError, match=r"truncation must be one of .*got 'sometimes'"):
        tok("a", truncation="sometimes")
    with pytest.raises(ValueError, match=r"return_tensors='pt'"):
        tok("a", return_tensors="pt")
    with pytest.raises(ValueError, match="max_length"):
        tok("a", max_length=-1)
    with pytest.raises(ValueError, match="only_second"):
        tok("a b c", truncation="only_second", max_length=1)


def test_missing_and_malformed_files(tmp_path, gpt2_dir):
    empty = tmp_path / "empty"
    empty.mkdir()
    for loader in (AutoTokenizer.from_pretrained, ByteLevelBPETokenizer.from_pretrained):
        with pytest.raises(OSError, match=r"empty.*tokenizer\.json.*vocab\.json"):
            loader(empty)
    with pytest.raises(OSError, match="does-not-exist"):
        AutoTokenizer.from_pretrained(tmp_path / "does-not-exist")

    bad = tmp_path / "bad"
    bad.mkdir()
    shutil.copy(gpt2_dir / "vocab.json", bad / "vocab.json")
    (bad / "merges.txt").write_text("#version: 0.2\nĠ t\nh e x\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"merges\.txt, line 3: expected two tokens.*'h e x'"):
        AutoTokenizer.from_pretrained(bad)
    (bad / "merges.txt").write_text("#version: 0.2\nĠ t\nĠ zzqx\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"merges\.txt, line 3: token 'zzqx'.*not in the vocabulary"):
        AutoTokenizer.from_pretrained(bad)
    (bad / "vocab.json").write_text('{"a": 0,\n "b": }', encoding="utf-8")
    with pytest.raises(ValueError, match=r"vocab\.json: invalid JSON at line 2"):
        AutoTokenizer.from_pretrained(bad)
    (bad / "vocab.json").write_text('{"a": 0, "b": "one"}', encoding="utf-8")
    with pytest.raises(ValueError, match=r"vocab\.json: token 'b' has id 'one'"):
        AutoTokenizer.from_pretrained(bad)

    wordpiece = tmp_path / "bert-like"
    wordpiece.mkdir()
    (wordpiece / "vocab.txt").write_text("[PAD]\n[UNK]\nhello\n", encoding="utf-8")
    assert type(AutoTokenizer.from_pretrained(wordpiece)).__name__ == "WordPieceTokenizer"   # not BPE
    with pytest.raises(OSError, match=r"bert-like.*vocab\.json"):
        ByteLevelBPETokenizer.from_pretrained(wordpiece)


# ----------------------------------------------------------------------------------------------
# Overflow windows, sequence ids and the alignment helpers (shared with WordPiece, in base.py)
# ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("post", ["roberta", "template", "bytelevel_trim"])
def test_overflow_windows_match_reference(gpt2_dir, tmp_path, post):
    """return_overflowing_tokens + stride: the same windows, in the same order, with the same
    (trimmed) offsets as `tokenizers`' Encoding.overflowing, for single texts and pairs."""
    reference = _roberta_like(gpt2_dir, post)
    reference.save(str(tmp_path / "tokenizer.json"))
    mine = AutoTokenizer.from_pretrained(tmp_path)
    n_special = mine.num_special_tokens_to_add(pair=False), mine.num_special_tokens_to_add(pair=True)
    a = "Hello  world, this is the first text with quite a few words in it"
    b = "and <mask> second é  text, also long enough to overflow"
    for side in ("right", "left"):
        mine.truncation_side = side
        for strategy in ("longest_first", "only_first", "only_second"):
            for max_length in (4, 7, 12, 60):
                for stride in (0, 1, 3):
                    for pair in (None, b, "x"):
                        try:
                            reference.enable_truncation(max_length, stride=stride, strategy=strategy,
                                                        direction=side)
                            e = reference.encode(a, pair) if pair is not None else reference.encode(a)
                            expected = [e, *e.overflowing]
                        except BaseException:          # errors, and panics on a too large stride
                            expected = None
                        finally:
                            reference.no_truncation()
                        if stride and stride >= max_length - n_special[pair is not None]:
                            expected = None             # minitf checks the stride up front
                        kwargs = dict(truncation=strategy, max_length=max_length, stride=stride,
                                      return_overflowing_tokens=True, return_offsets_mapping=True)
                        if expected is None:
                            with pytest.raises(ValueError, match="truncation|stride"):
                                mine(a, pair, **kwargs)
                            continue
                        enc = mine(a, pair, **kwargs)
                        assert enc.input_ids == [x.ids for x in expected]
                        assert enc.offset_mapping == [[tuple(o) for o in x.offsets] for x in expected]
                        assert enc.overflow_to_sample_mapping == [0] * len(expected)
                        assert [enc.sequence_ids(i) for i in range(len(expected))] == \
                            [x.sequence_ids for x in expected]
                        assert [enc.word_ids(i) for i in range(len(expected))] == [x.word_ids for x in expected]


def test_overflow_batch_padding_and_tensors(fresh):
    tok = fresh
    tok.pad_token = tok.eos_token
    texts = ["one two three four five six seven", "eight", "nine ten eleven twelve"]
    enc = tok(texts, truncation=True, max_length=3, stride=1, return_overflowing_tokens=True,
              padding=True, return_tensors="np", return_length=True)
    # windows of 3 tokens starting every 3 - 1 tokens; the last one of a text may be shorter
    assert enc.input_ids.tolist() == [[505, 734, 1115], [1115, 1440, 1936], [1936, 2237, 3598],
                                      [26022, 50256, 50256],
                                      [30888, 3478, 22216], [22216, 14104, 50256]]
    assert enc.overflow_to_sample_mapping.tolist() == [0, 0, 0, 1, 2, 2]
    assert enc.overflow_to_sample_mapping.dtype == np.int64 and enc.length.tolist() == [3] * 6
    assert enc.attention_mask[3].tolist() == [1, 0, 0]
    assert enc.sequence_ids(3) == [0, None, None] and enc.word_ids(2) == [4, 5, 6]
    assert list(enc) == ["input_ids", "attention_mask", "length", "overflow_to_sample_mapping"]
    single = tok("one two three", truncation=True, max_length=2, return_overflowing_tokens=True)
    assert single.input_ids == [[505, 734], [1115]]            # stays a batch of windows
    assert single.overflow_to_sample_mapping == [0, 0]
    with pytest.raises(ValueError, match="return_overflowing_tokens=True needs truncation"):
        tok("one two three", return_overflowing_tokens=True)
    with pytest.raises(ValueError, match="stride=2 must be smaller than max_length=2"):
        tok("one two three", truncation=True, max_length=2, stride=2)


def test_alignment_helpers(tok, ref):
    text = "Hello  wörld, it's 😀 time"
    e = ref.encode(text, "and pair")
    enc = tok(text, "and pair")
    assert enc.sequence_ids() == e.sequence_ids
    for t in range(len(e.ids)):
        assert enc.token_to_word(t) == e.token_to_word(t) and enc.token_to_sequence(t) == e.token_to_sequence(t)
        span = enc.token_to_chars(0, t)
        assert (tuple(span) if span else None) == e.token_to_chars(t)
    for seq in (0, 1):
        for c in range(len(text)):
            assert enc.char_to_token(c, sequence_index=seq) == e.char_to_token(c, seq)
        for w in range(10):
            span = enc.word_to_chars(w, sequence_index=seq)
            assert (tuple(span) if span else None) == e.word_to_chars(w, seq)
    with pytest.raises(IndexError, match="batch index 3 is out of range"):
        enc.sequence_ids(3)


# ----------------------------------------------------------------------------------------------
# Live comparison with transformers (`make parity`; not needed by the rest of this file)
# ----------------------------------------------------------------------------------------------
@pytest.mark.parity
def test_call_matches_transformers(gpt2_dir):
    transformers = pytest.importorskip("transformers")
    hf = transformers.GPT2TokenizerFast.from_pretrained(str(gpt2_dir))
    mine = AutoTokenizer.from_pretrained(gpt2_dir)
    hf.pad_token, mine.pad_token = hf.eos_token, mine.eos_token
    texts, pairs = ["Hello world", "Hi", "A longer sentence with a few more words.", ""], \
        ["and a pair", "x", "", "yy zz"]
    options = [{}, {"padding": True}, {"padding": "max_length", "max_length": 12},
               {"truncation": True, "max_length": 4}, {"max_length": 3},
               {"padding": True, "pad_to_multiple_of": 8, "return_tensors": "np"},
               {"padding": True, "truncation": True, "max_length": 5, "return_length": True},
               {"padding": True, "return_offsets_mapping": True, "return_special_tokens_mask": True},
               {"truncation": "only_second", "max_length": 6}, {"add_special_tokens": False},
               {"truncation": True, "max_length": 3, "stride": 1, "return_overflowing_tokens": True,
                "padding": True, "return_offsets_mapping": True},
               {"truncation": "only_second", "max_length": 5, "stride": 1,
                "return_overflowing_tokens": True, "return_special_tokens_mask": True}]
    for side in ("right", "left"):
        hf.padding_side = hf.truncation_side = mine.padding_side = mine.truncation_side = side
        for kwargs in options:
            for args in [(texts[0],), (texts,), (texts[0], pairs[0]), (texts, pairs)]:
                try:
                    expected = hf(*args, **kwargs)
                except BaseException:              # e.g. only_second without a pair; Rust panics
                    with pytest.raises(ValueError):
                        mine(*args, **kwargs)
                    continue
                got = mine(*args, **kwargs)
                assert list(expected) == list(got)
                for key in expected:
                    a, b = expected[key], got[key]
                    if isinstance(a, np.ndarray):
                        assert a.dtype == b.dtype and np.array_equal(a, b)
                    else:
                        assert json.dumps(a) == json.dumps(b), (key, kwargs, args)
                for i in range(len(expected.encodings)):
                    assert expected.sequence_ids(i) == got.sequence_ids(i)
                    assert expected.word_ids(i) == got.word_ids(i)


def test_tokenizer_pickles_without_its_caches(fresh):
    """A tokenizer survives pickling (multiprocessing, notebooks' %store) with the same ids,
    and the word cache and added-token matchers are not carried along."""
    import pickle

    text = "Hello <|endoftext|> world, hello again"
    ids = fresh(text)["input_ids"]
    copy = pickle.loads(pickle.dumps(fresh))
    assert copy._cache == {} and copy.added_vocabulary._matchers == {}
    assert copy(text)["input_ids"] == ids
    assert copy.decode(ids) == fresh.decode(ids)
