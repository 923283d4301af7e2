"""WordPiece (BERT) tokenizer against the Hugging Face `tokenizers` library.

The reference is `tokenizers.Tokenizer` loaded from the same files (the real bert-base-uncased
vocabulary of all-MiniLM-L6-v2): ids, tokens, offsets, word ids and decoded text must be
identical, on a varied corpus and on random text (hypothesis), for the uncased files and for
cased / other normalizer settings built with `tokenizers`. The rest checks overflow windows,
the alignment helpers, training, saving, AutoTokenizer's choice and the errors.
Needs the real files: `make weights` (python weights/fetch.py).
"""
from __future__ import annotations

import doctest
import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from tokenizers import AddedToken as RefAddedToken
from tokenizers import Tokenizer, normalizers, pre_tokenizers

from minitf.tokenizers import AutoTokenizer, BertTokenizer, ByteLevelBPETokenizer, WordPieceTokenizer
from minitf.tokenizers import base as base_module
from minitf.tokenizers import wordpiece as wp_module

ROOT = Path(__file__).parents[1]
MINILM_DIR = ROOT / "weights/real/all-MiniLM-L6-v2"
GPT2_DIR = ROOT / "weights/real/gpt2-tokenizer"
CORPUS_FILE = Path(__file__).parent / "data/wordpiece_corpus.txt"

CORPUS = [
    "Hello world",
    "Héllo, WORLD! Tokenization",
    "The quick brown fox jumps over the lazy dog. It was 3:45pm on 2024-01-15!",
    # accents, composed and decomposed, and case mappings that change the length
    "accents composed é è ê ë ñ ü Å and decomposed e\u0301 e\u0300 n\u0303 u\u0308 A\u030a",
    "ÉTÉ Ørsted Straße ǅ ﬁ İstanbul ΣΑΣ ὈΔΥΣΣΕΎΣ Ǆemal",
    "marks alone \u0301\u0301 a\u0301\u0316\u0300 and a\u0301\U0001D165 (reordered by NFD)",
    "CJK 日本語のテキスト 中文文本 한국어 문장 豈更 𠀀𠀁 \U0002B820\U0002B920 ㊀",
    "emoji 😀😂🤣 👍🏽 👍🏿 👩‍💻 👨‍👩‍👧‍👦 🏳️‍🌈 ❤️ 🇫🇷🇩🇪",
    "control \x00\x01\x07\x08\x1b\x7f chars \ufffd and \u200b\u200d\ufeff format \ue000 private",
    "separators a\x1cb\x1dc\x1ed\x1fe and a\x0bb\x0cc\x85d",
    "odd spaces a\xa0b\u1680c\u2000d\u2009e\u200af\u2028g\u2029h\u202fi\u205fj\u3000k",
    "whitespace  runs   \t\t\n\n\r\n   everywhere   ",
    "   ",
    "",
    "a" * 100 + " " + "b" * 101 + " " + "antidisestablishmentarianism" * 4,
    "Pneumonoultramicroscopicsilicovolcanoconiosis " * 5,
    "Punctuation!!! ??? ... --- ___ *** ~~~ ``` ''' \"\"\" ¿¡ «» „“ —– …",
    "ASCII symbols $ + < = > ^ ` | ~ are punctuation for BERT: $5+3<9 a|b ~x^2",
    "Numbers 0 1 12 123 1234 12345 3.14159 1,000,000 1e-10 -5 +7 0xFF ٣٤٥ ४२ 五",
    "MiXeD CaSe, camelCaseIdentifiers, snake_case_names, kebab-case and UPPER.",
    "[CLS] special [SEP] tokens [MASK] in [UNK] the [PAD] text[SEP]glued [cls] lower",
    "https://huggingface.co/docs/transformers/main_classes/tokenizer?x=1&y=2#top",
    "Hindi नमस्ते दुनिया। Arabic مرحبا بالعالم Thai สวัสดีชาวโลก Greek Γειά σου",
    "new Unicode 16 letters \U00031350 \U00010D50\U00010D70 \ua7cb and punctuation \u2e43\u2e5d \u166d",
    "isn't it? don't we're I'm you've they'll he'd do not",
]
PAIRS = [("Hello world", "General Kenobi!"), ("", "only the second"), ("only the first", ""),
         ("What is BERT?", CORPUS[2]), (CORPUS[3], CORPUS[6])]


@pytest.fixture(scope="module")
def minilm_dir() -> Path:
    if not (MINILM_DIR / "tokenizer.json").is_file():
        pytest.fail(f"the real BERT vocabulary is missing from {MINILM_DIR}: run `make weights` "
                    f"(python weights/fetch.py)")
    return MINILM_DIR


@pytest.fixture(scope="module")
def ref(minilm_dir) -> Tokenizer:
    t = Tokenizer.from_file(str(minilm_dir / "tokenizer.json"))
    t.no_truncation()                # the file truncates to 128 (transformers turns that off)
    return t


@pytest.fixture(scope="module")
def tok(minilm_dir) -> WordPieceTokenizer:
    """Shared, read-only: tests that change settings use `fresh`."""
    return AutoTokenizer.from_pretrained(minilm_dir)


@pytest.fixture(scope="module")
def vocab_dir(minilm_dir, tmp_path_factory) -> Path:
    """The same tokenizer as vocab.txt + tokenizer_config.json + special_tokens_map.json."""
    folder = tmp_path_factory.mktemp("bert-vocab-txt")
    for name in ("vocab.txt", "tokenizer_config.json", "special_tokens_map.json"):
        shutil.copy(minilm_dir / name, folder / name)
    return folder


@pytest.fixture()
def fresh(vocab_dir) -> WordPieceTokenizer:
    return AutoTokenizer.from_pretrained(vocab_dir)


def encode_ref(ref: Tokenizer, text: str, pair: str | None = None):
    e = ref.encode(text, pair) if pair is not None else ref.encode(text)
    return e.ids, e.tokens, [tuple(o) for o in e.offsets], e.word_ids


def encode_mine(tok, text: str, pair: str | None = None):
    enc = tok(text, pair, return_offsets_mapping=True, verbose=False)
    return enc["input_ids"], enc.tokens(), enc["offset_mapping"], enc.word_ids()


# ----------------------------------------------------------------------------------------------
# The worked example of the module docstring, and the doctests
# ----------------------------------------------------------------------------------------------
def test_worked_example(tok):
    assert isinstance(tok, WordPieceTokenizer) and BertTokenizer is WordPieceTokenizer
    assert tok.tokenize("Héllo, WORLD! Tokenization") == ["hello", ",", "world", "!", "token", "##ization"]
    enc = tok("Héllo, WORLD!", return_offsets_mapping=True)
    assert enc.input_ids == [101, 7592, 1010, 2088, 999, 102]
    assert enc.token_type_ids == [0] * 6 and enc.attention_mask == [1] * 6
    assert enc.offset_mapping == [(0, 0), (0, 5), (5, 6), (7, 12), (12, 13), (0, 0)]
    assert tok.decode(enc.input_ids, skip_special_tokens=True) == "hello, world!"
    assert tok.decode(enc.input_ids) == "[CLS] hello, world! [SEP]"
    assert (tok.cls_token, tok.sep_token, tok.mask_token_id, tok.pad_token_id, tok.unk_token_id) == \
        ("[CLS]", "[SEP]", 103, 0, 100)
    assert tok.model_max_length == 512 and tok.vocab_size == len(tok) == 30522
    assert tok.do_lower_case and tok.continuing_subword_prefix == "##"


def test_docstring_examples_run():
    # pre_tokenize, wordpiece and the worked training example; Encoding.windows in base.py
    result = doctest.testmod(wp_module, optionflags=doctest.ELLIPSIS)
    assert result.failed == 0 and result.attempted >= 7
    result = doctest.testmod(base_module, optionflags=doctest.ELLIPSIS)
    assert result.failed == 0 and result.attempted >= 2


# ----------------------------------------------------------------------------------------------
# Parity with the reference on the real bert-base-uncased vocabulary
# ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("text", CORPUS, ids=range(len(CORPUS)))
def test_parity_tokenizer_json(tok, ref, text):
    expected = encode_ref(ref, text)
    assert encode_mine(tok, text) == expected
    for skip in (False, True):
        assert tok.decode(expected[0], skip_special_tokens=skip, clean_up_tokenization_spaces=False) == \
            ref.decode(expected[0], skip_special_tokens=skip)


def test_parity_corpus_file_and_pairs(tok, ref):
    text = CORPUS_FILE.read_text(encoding="utf-8")
    assert encode_mine(tok, text) == encode_ref(ref, text)
    lines = text.splitlines(keepends=True)
    for a, b in [*zip(lines, lines[1:]), *PAIRS]:
        e = ref.encode(a, b)
        enc = tok(a, b, return_offsets_mapping=True, return_special_tokens_mask=True)
        assert (enc.input_ids, enc.tokens(), enc.offset_mapping) == (e.ids, e.tokens, [tuple(o) for o in e.offsets])
        assert enc.token_type_ids == e.type_ids and enc.special_tokens_mask == e.special_tokens_mask
        assert enc.word_ids() == e.word_ids and enc.sequence_ids() == e.sequence_ids


def test_parity_vocab_txt_loading(vocab_dir, ref):
    """vocab.txt (+ tokenizer_config.json) gives the same tokenizer as tokenizer.json."""
    mine = AutoTokenizer.from_pretrained(vocab_dir)
    assert isinstance(mine, WordPieceTokenizer) and mine.all_special_ids == [100, 102, 0, 101, 103]
    assert mine.clean_up_tokenization_spaces is True     # converted from BertTokenizer, as transformers
    for text in [*CORPUS, CORPUS_FILE.read_text(encoding="utf-8")]:
        assert encode_mine(mine, text) == encode_ref(ref, text)
    only_vocab = vocab_dir.parent / "only-vocab"
    only_vocab.mkdir(exist_ok=True)
    shutil.copy(vocab_dir / "vocab.txt", only_vocab / "vocab.txt")      # BERT's defaults
    bare = AutoTokenizer.from_pretrained(only_vocab)
    assert bare.model_max_length == base_module.VERY_LARGE_INTEGER
    assert encode_mine(bare, CORPUS[1], CORPUS[3]) == encode_ref(ref, CORPUS[1], CORPUS[3])


# Normalizer settings: (lowercase, strip_accents, handle_chinese_chars, clean_text)
VARIANTS = [(False, None, True, True),       # cased BERT
            (True, False, True, True),       # lower-case but keep accents ('İ' -> 'i̇' survives)
            (False, True, False, False)]     # strip accents only, no CJK splitting, no cleaning


@pytest.mark.parametrize("variant", VARIANTS, ids=["cased", "lower-keep-accents", "strip-only"])
def test_parity_other_normalizers(minilm_dir, tmp_path, variant):
    lowercase, strip_accents, chinese, clean = variant
    reference = Tokenizer.from_file(str(minilm_dir / "tokenizer.json"))
    reference.no_truncation()
    reference.normalizer = normalizers.BertNormalizer(clean_text=clean, handle_chinese_chars=chinese,
                                                      strip_accents=strip_accents, lowercase=lowercase)
    reference.save(str(tmp_path / "tokenizer.json"))
    (tmp_path / "tokenizer_config.json").write_text(json.dumps(
        {"tokenizer_class": "BertTokenizer", "do_lower_case": lowercase, "strip_accents": strip_accents,
         "tokenize_chinese_chars": chinese, "model_max_length": 512}))
    mine = AutoTokenizer.from_pretrained(tmp_path)
    assert mine.do_lower_case == lowercase
    texts = [*CORPUS, CORPUS_FILE.read_text(encoding="utf-8")]
    for text in texts:
        assert encode_mine(mine, text) == encode_ref(reference, text), text
    if lowercase is False and strip_accents is None:    # the vocabulary has no capitals
        assert mine.tokenize("hello Hello") == ["hello", "[UNK]"]


def test_cased_from_vocab_txt(vocab_dir, tmp_path):
    """do_lower_case=False in tokenizer_config.json (or as a keyword) gives a cased tokenizer."""
    shutil.copy(vocab_dir / "vocab.txt", tmp_path / "vocab.txt")
    (tmp_path / "tokenizer_config.json").write_text(json.dumps({"do_lower_case": False}))
    reference = Tokenizer.from_file(str(MINILM_DIR / "tokenizer.json"))
    reference.no_truncation()
    reference.normalizer = normalizers.BertNormalizer(lowercase=False)
    for mine in (AutoTokenizer.from_pretrained(tmp_path),
                 AutoTokenizer.from_pretrained(vocab_dir, do_lower_case=False)):
        assert mine.tokenize("hello Hello") == ["hello", "[UNK]"]
        for text in CORPUS:
            assert encode_mine(mine, text) == encode_ref(reference, text)


def test_character_tables_match_reference():
    """Punctuation, control characters, accent stripping, CJK and lower-casing as the
    reference's (older and newer) Unicode tables have them: every code point of planes 0, 1
    and 14, the CJK blocks' edges and a sample of the rest."""
    cps = [c for c in [*range(1, 0x20000), *range(0x2A600, 0x2D000), *range(0x2F800, 0x2FA40),
                       *range(0x30000, 0x32400, 7), *range(0xE0000, 0xE1000),
                       *range(0x32400, 0x110000, 101)]
           if not 0xD800 <= c <= 0xDFFF]
    text = "a".join(map(chr, cps))             # 'a' between: no two marks meet (no reordering)
    assert wp_module.pre_tokenize(text) == \
        [tuple(o) for _, o in pre_tokenizers.BertPreTokenizer().pre_tokenize_str(text)]
    for lowercase, strip, chinese, clean in [(False, False, False, True), (False, False, True, False),
                                             (False, True, False, False), (True, False, False, False)]:
        expected = normalizers.BertNormalizer(clean_text=clean, handle_chinese_chars=chinese,
                                              strip_accents=strip, lowercase=lowercase).normalize_str(text)
        got = wp_module.BertNormalizer(clean, chinese, strip, lowercase).normalize_str(text)
        if got != expected:
            k = next(i for i, (x, y) in enumerate(zip(got, expected)) if x != y)
            pytest.fail(f"normalizer {(lowercase, strip, chinese, clean)} differs at {k}: "
                        f"{got[k - 5:k + 5]!r} vs {expected[k - 5:k + 5]!r}")


def test_canonical_reordering_offsets(tok, ref):
    """NFD sorts combining marks across characters; a kept mark then takes the source of the
    position it moves to, exactly as in the reference (the slow exact path)."""
    for text in ["a\u0301\U0001D165 b", "\u00e0\u0316\U0001D165x", "x\u0301\u0316\U0001D166\U0001D165 y\u302e",
                 "q\u05b0\u0301\U0001D16D\U0001D165z", "\u0301" * 3 + "\U0001D165" * 2]:
        assert encode_mine(tok, text) == encode_ref(ref, text)
        norm = tok.normalizer
        assert norm.normalize(text) == norm._normalize_exact(text, 0, len(text))


def test_long_words(tok, ref):
    for n in (99, 100, 101, 250):
        text = "x" + "ab" * (n // 2) + "c" * (n % 2 - 1 + 1) + " end"
        assert encode_mine(tok, text) == encode_ref(ref, text)
    assert tok.tokenize("a" * 101) == ["[UNK]"] and len(tok.tokenize("a" * 100)) > 1
    # 100 characters after normalization: an accent stripped away does not count
    assert len(tok.tokenize("e\u0301" * 100)) > 1 and tok.tokenize("é" * 101) == ["[UNK]"]


# ----------------------------------------------------------------------------------------------
# Property tests
# ----------------------------------------------------------------------------------------------
TRICKY = [" ", "  ", "\t", "\n", "\r\n", "\x00", "\x85", "\xa0", "\u3000", "\x1c", "\u200b",
          "\ufffd", "[CLS]", "[SEP]", "[MASK]", "[UNK]", "é", "e\u0301", "\u0301", "\u0316",
          "\U0001D165", "İ", "Σ", "ß", "ﬁ", "😀", "👩\u200d💻", "日本", "豈", "\U0002B820",
          "١٢", "\u0903", "\u2e43", "\u166d", "\U00010D50", "##", "un", "##able", "'", "!", ".",
          "$", "a", "Z", "0", "_", "x" * 101]
texts = st.lists(st.one_of(st.text(max_size=8), st.sampled_from(TRICKY),
                           st.text(st.characters(categories=["L", "M", "N", "Z", "Cc", "Cf", "Cn", "Co",
                                                             "P", "S"]), max_size=6)),
                 max_size=12).map("".join)


@settings(max_examples=200, deadline=None)
@given(texts, st.one_of(st.none(), texts))
def test_parity_random_text(tok, ref, text, pair):
    assert encode_mine(tok, text, pair) == encode_ref(ref, text, pair)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.integers(0, 30521), max_size=12))
def test_decode_any_ids_matches_reference(tok, ref, ids):
    for skip in (False, True):
        assert tok.decode(ids, skip_special_tokens=skip, clean_up_tokenization_spaces=False) == \
            ref.decode(ids, skip_special_tokens=skip)


# ----------------------------------------------------------------------------------------------
# Added tokens
# ----------------------------------------------------------------------------------------------
def test_added_tokens_match_reference(minilm_dir, fresh):
    reference = Tokenizer.from_file(str(minilm_dir / "tokenizer.json"))
    reference.no_truncation()
    # "Minitf" (normalized=True) is lower-cased like the text; "<Raw>" (normalized=False) is not
    assert fresh.add_tokens(["Minitf", "hello"]) == 1                 # "hello" is in the vocab
    reference.add_tokens(["Minitf", "hello"])
    fresh.add_tokens([base_module.AddedToken("<Raw>", normalized=False),
                      base_module.AddedToken("[X]", single_word=True, rstrip=True)])
    reference.add_tokens([RefAddedToken("<Raw>", normalized=False),
                          RefAddedToken("[X]", single_word=True, rstrip=True)])
    assert fresh.add_special_tokens({"additional_special_tokens": ["<Special>"]}) == 1
    reference.add_special_tokens(["<Special>"])
    assert len(fresh) == reference.get_vocab_size() == 30526
    for text in ["I like MINITF and minitf<Raw><raw> a lot", "x[X]  y [X]  z", "<Special>Héllo minitfs",
                 "MinitfMinitf [CLS]<Special>", "é<Raw>é"]:
        assert encode_mine(fresh, text) == encode_ref(reference, text), text
        ids = fresh.encode(text)
        for skip in (False, True):
            assert fresh.decode(ids, skip_special_tokens=skip, clean_up_tokenization_spaces=False) == \
                reference.decode(ids, skip_special_tokens=skip)


# ----------------------------------------------------------------------------------------------
# Truncation and overflow windows (the reference: enable_truncation + Encoding.overflowing)
# ----------------------------------------------------------------------------------------------
def test_truncation_and_overflow_match_reference(fresh, ref):
    long_a = "one two three four five six seven eight nine ten eleven twelve thirteen"
    long_b = "alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu nu xi"
    short = "a question?"
    cases = [(long_a, None), (short, long_b), (long_a, short), (long_a, long_b), ("", long_b)]
    for side in ("right", "left"):
        fresh.truncation_side = side
        for strategy in ("longest_first", "only_first", "only_second"):
            for max_length in (3, 5, 8, 11, 40):
                for stride in (0, 1, 2):
                    for a, b in cases:
                        try:
                            ref.enable_truncation(max_length, stride=stride, strategy=strategy,
                                                  direction=side)
                            e = ref.encode(a, b) if b is not None else ref.encode(a)
                            expected = [e] + e.overflowing
                        except BaseException:          # errors, and panics on a too large stride
                            expected = None
                        finally:
                            ref.no_truncation()
                        kwargs = dict(truncation=strategy, max_length=max_length, stride=stride,
                                      return_overflowing_tokens=True, return_offsets_mapping=True,
                                      return_special_tokens_mask=True)
                        n_special = 3 if b is not None else 2
                        if stride and stride >= max_length - n_special:
                            expected = None       # minitf checks the stride before truncating
                        if expected is None:
                            with pytest.raises(ValueError, match="truncation|stride"):
                                fresh(a, b, **kwargs)
                            continue
                        enc = fresh(a, b, **kwargs)
                        assert enc.input_ids == [x.ids for x in expected], (side, strategy, max_length, stride, a, b)
                        assert enc.offset_mapping == [[tuple(o) for o in x.offsets] for x in expected]
                        assert enc.token_type_ids == [x.type_ids for x in expected]
                        assert enc.special_tokens_mask == [x.special_tokens_mask for x in expected]
                        assert enc.overflow_to_sample_mapping == [0] * len(expected)
                        for i, x in enumerate(expected):
                            assert enc.word_ids(i) == x.word_ids and enc.sequence_ids(i) == x.sequence_ids
                        plain = fresh(a, b, truncation=strategy, max_length=max_length, stride=stride)
                        assert plain.input_ids == expected[0].ids


def test_question_answering_windows(tok):
    """The question-answering call: every window is [CLS] question [SEP] part-of-context [SEP],
    consecutive context parts share `stride` tokens, a batch maps windows to its samples."""
    question, context = "Who wrote it?", CORPUS_FILE.read_text(encoding="utf-8")
    enc = tok([question, "Why?"], [context, "Because."], truncation="only_second", max_length=64,
              stride=16, return_overflowing_tokens=True, return_offsets_mapping=True,
              padding="max_length", return_tensors="np")
    n = enc.input_ids.shape[0]
    assert enc.input_ids.shape == (n, 64) and enc.offset_mapping.shape == (n, 64, 2) and n > 5
    assert enc.overflow_to_sample_mapping.tolist() == [0] * (n - 1) + [1]
    q_ids = tok.encode(question, add_special_tokens=False)
    contexts = []
    for i in range(n - 1):
        seq = enc.sequence_ids(i)
        ids = enc.input_ids[i].tolist()
        assert ids[:len(q_ids) + 2] == [101, *q_ids, 102] and seq[0] is None
        ctx = [t for t, s in zip(ids, seq) if s == 1]
        assert ctx and ids[len(q_ids) + 2 + len(ctx)] == 102
        contexts.append(ctx)
        for k, s in enumerate(seq):               # offsets of the context point into the context
            if s == 1:
                start, end = enc.offset_mapping[i, k]
                piece = tok.convert_ids_to_tokens(ids[k]).removeprefix("##").lower()
                assert piece in tok.normalizer.normalize_str(context[start:end]) or ids[k] == 100
    for prev, nxt in zip(contexts, contexts[1:]):
        assert prev[-16:] == nxt[:16]
    assert sum(len(c) for c in contexts) - 16 * (len(contexts) - 1) == \
        len(tok.encode(context, add_special_tokens=False))
    # with padding: pads are sequence None, word None; a single text stays a batch of windows
    single = tok(context, truncation=True, max_length=32, stride=4, return_overflowing_tokens=True)
    assert isinstance(single.input_ids[0], list) and len(single.input_ids) > 5
    assert single.overflow_to_sample_mapping == [0] * len(single.input_ids)


def test_alignment_helpers_match_reference(tok, ref):
    a, b = "Héllo wörld, tokenization!", "Second 日本 sequence"
    e = ref.encode(a, b)
    enc = tok(a, b)
    assert enc.sequence_ids() == e.sequence_ids and enc.word_ids() == e.word_ids == enc.words()
    for t in range(len(e.ids)):
        assert enc.token_to_sequence(t) == e.token_to_sequence(t)
        assert enc.token_to_word(t) == e.token_to_word(t) == enc.token_to_word(0, t)
        chars = enc.token_to_chars(t)
        assert (tuple(chars) if chars else None) == e.token_to_chars(t)
    for seq in (0, 1):
        for c in range(len(a) + 2):
            assert enc.char_to_token(c, sequence_index=seq) == e.char_to_token(c, seq)
        for w in range(8):
            span = enc.word_to_chars(w, sequence_index=seq)
            assert (tuple(span) if span else None) == e.word_to_chars(w, seq)
            tokens = enc.word_to_tokens(0, w, sequence_index=seq)
            assert (tuple(tokens) if tokens else None) == e.word_to_tokens(w, seq)
    assert enc.word_to_chars(1).start == 6 and a[slice(*enc.word_to_chars(1))] == "wörld"


def test_padding_token_types_and_tensors(tok):
    enc = tok(["Hello world", "Hi"], ["a pair", "b"], padding=True, return_tensors="np",
              return_special_tokens_mask=True)
    assert set(enc) == {"input_ids", "token_type_ids", "attention_mask", "special_tokens_mask"}
    assert enc.input_ids.tolist() == [[101, 7592, 2088, 102, 1037, 3940, 102],
                                      [101, 7632, 102, 1038, 102, 0, 0]]
    assert enc.token_type_ids.tolist() == [[0, 0, 0, 0, 1, 1, 1], [0, 0, 0, 1, 1, 0, 0]]
    assert enc.attention_mask.tolist()[1] == [1, 1, 1, 1, 1, 0, 0]
    assert enc.special_tokens_mask.tolist()[1] == [1, 0, 1, 0, 1, 1, 1]
    assert enc.sequence_ids(1) == [None, 0, None, 1, None, None, None]
    assert tok("Hello", return_token_type_ids=False) == {"input_ids": [101, 7592, 102], "attention_mask": [1, 1, 1]}
    assert tok("Hello", add_special_tokens=False).input_ids == [7592]
    assert tok("a b c d e f", max_length=5, truncation=True).input_ids == [101, 1037, 1038, 1039, 102]


# ----------------------------------------------------------------------------------------------
# Decoding
# ----------------------------------------------------------------------------------------------
def test_decode(tok, ref):
    ids = tok.encode("Tokenization isn't hard , is it ? Yes !")
    assert tok.convert_ids_to_tokens(ids)[1:4] == ["token", "##ization", "isn"]
    assert tok.decode(ids) == "[CLS] tokenization isn ' t hard, is it? yes! [SEP]"       # like tokenizers
    assert tok.decode(ids, skip_special_tokens=True, clean_up_tokenization_spaces=True) == \
        "tokenization isn't hard, is it? yes!"
    assert tok.convert_tokens_to_string(["un", "##aff", "##able", "."]) == "unaffable."
    assert tok.batch_decode(np.array([[101, 7592, 102], [101, 2088, 102]]), skip_special_tokens=True) == \
        ["hello", "world"]
    assert tok.decode(7592) == "hello" and tok.decode([]) == ""


# ----------------------------------------------------------------------------------------------
# Training and saving
# ----------------------------------------------------------------------------------------------
def test_train_small_corpus(tmp_path):
    corpus = CORPUS_FILE.read_text(encoding="utf-8").splitlines()
    tok = WordPieceTokenizer.train(corpus, vocab_size=400)
    assert len(tok) == 400 and list(tok.vocab)[:5] == ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    assert (tok.cls_token_id, tok.sep_token_id, tok.unk_token_id) == (2, 3, 1)
    # the first merge has the best score count(ab) / (count(a) count(b)) over the corpus words
    norm = wp_module.BertNormalizer()
    counts: dict[str, int] = {}
    for line in corpus:
        text = norm.normalize_str(line)
        for s, e in wp_module.pre_tokenize(text):
            counts[text[s:e]] = counts.get(text[s:e], 0) + 1
    symbols: dict[str, int] = {}
    pairs: dict[tuple[str, str], int] = {}
    for word, n in counts.items():
        split = [word[0]] + ["##" + c for c in word[1:]]
        for s in split:
            symbols[s] = symbols.get(s, 0) + n
        for p in zip(split, split[1:]):
            pairs[p] = pairs.get(p, 0) + n
    best = min(pairs, key=lambda p: (-pairs[p] / (symbols[p[0]] * symbols[p[1]]), p))
    n_alphabet = len(symbols)
    first = list(tok.vocab)[5 + n_alphabet]
    assert first == best[0] + best[1].removeprefix("##")
    assert "[UNK]" not in tok.tokenize(" ".join(corpus).replace("[UNK]", ""))
    assert WordPieceTokenizer.train(corpus, vocab_size=400).vocab == tok.vocab    # deterministic

    tok.save_pretrained(tmp_path)
    assert {"vocab.txt", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"} <= \
        {p.name for p in tmp_path.iterdir()}
    reference = Tokenizer.from_file(str(tmp_path / "tokenizer.json"))
    reloaded = AutoTokenizer.from_pretrained(tmp_path)
    for text in [*corpus, "unseen: zyzzyva ÆØÅ 🤖 [SEP] x"]:
        expected = encode_ref(reference, text)
        assert encode_mine(tok, text) == expected and encode_mine(reloaded, text) == expected
    (tmp_path / "tokenizer.json").unlink()                                      # vocab.txt only
    assert AutoTokenizer.from_pretrained(tmp_path).encode(corpus[0]) == tok.encode(corpus[0])


def test_train_cased_and_errors():
    tok = WordPieceTokenizer.train(["Hello HELLO hello"], vocab_size=30, do_lower_case=False)
    assert "H" in tok.vocab and "##E" in tok.vocab
    with pytest.raises(ValueError, match="vocab_size=10 is too small"):
        WordPieceTokenizer.train(["abcdefgh"], vocab_size=10)
    with pytest.raises(TypeError, match="int at item 1"):
        WordPieceTokenizer.train(["abc", 5], vocab_size=50)
    with pytest.raises(ValueError, match=r"\[UNK\]"):
        WordPieceTokenizer.train(["abc"], vocab_size=50, special_tokens=["[PAD]"])


def test_save_and_reload_real_vocabulary(tok, ref, tmp_path):
    tok.save_pretrained(tmp_path)
    assert (tmp_path / "vocab.txt").read_text(encoding="utf-8") == \
        (MINILM_DIR / "vocab.txt").read_text(encoding="utf-8")
    reference = Tokenizer.from_file(str(tmp_path / "tokenizer.json"))
    reloaded = AutoTokenizer.from_pretrained(tmp_path)
    assert reloaded.model_max_length == 512 and reloaded.all_special_ids == tok.all_special_ids
    text = CORPUS_FILE.read_text(encoding="utf-8")
    assert encode_ref(reference, text) == encode_ref(ref, text) == encode_mine(reloaded, text)


# ----------------------------------------------------------------------------------------------
# AutoTokenizer's choice
# ----------------------------------------------------------------------------------------------
def test_auto_tokenizer_choice(vocab_dir, minilm_dir, tmp_path):
    assert type(AutoTokenizer.from_pretrained(minilm_dir)) is WordPieceTokenizer        # tokenizer.json
    assert type(AutoTokenizer.from_pretrained(vocab_dir)) is WordPieceTokenizer         # vocab.txt
    distil = tmp_path / "distil"
    distil.mkdir()
    shutil.copy(vocab_dir / "vocab.txt", distil / "vocab.txt")
    (distil / "config.json").write_text(json.dumps({"model_type": "distilbert"}))
    (distil / "vocab.json").write_text("{}")          # a stray file must not make it BPE
    (distil / "merges.txt").write_text("")
    tok = AutoTokenizer.from_pretrained(distil)
    assert type(tok) is WordPieceTokenizer and tok.tokenizer_class == "DistilBertTokenizer"
    assert set(tok("Hello", "there")) == {"input_ids", "attention_mask"}               # no token types
    assert tok("Hello", "there").input_ids == [101, 7592, 102, 2045, 102]
    # a BPE folder still gives the BPE class
    if (GPT2_DIR / "tokenizer.json").is_file():
        assert type(AutoTokenizer.from_pretrained(GPT2_DIR)) is ByteLevelBPETokenizer


def test_roberta_folder_keeps_bpe_specials(tmp_path):
    """A RoBERTa-style folder (vocab.json + merges.txt, RobertaTokenizer): BPE with
    `<s> A </s></s> B </s>` and `<mask>` (lstrip) as mask_token."""
    if not (GPT2_DIR / "vocab.json").is_file():
        pytest.skip("GPT-2 tokenizer files not fetched")
    vocab = json.loads((GPT2_DIR / "vocab.json").read_text(encoding="utf-8"))
    for token in ("<s>", "<pad>", "</s>", "<unk>", "<mask>"):
        vocab[token] = len(vocab)
    (tmp_path / "vocab.json").write_text(json.dumps(vocab))
    shutil.copy(GPT2_DIR / "merges.txt", tmp_path / "merges.txt")
    (tmp_path / "config.json").write_text(json.dumps({"model_type": "roberta"}))
    tok = AutoTokenizer.from_pretrained(tmp_path)
    assert type(tok) is ByteLevelBPETokenizer
    assert (tok.cls_token, tok.sep_token, tok.pad_token, tok.mask_token) == ("<s>", "</s>", "<pad>", "<mask>")
    assert tok.mask_token_id == vocab["<mask>"]
    enc = tok("The <mask> sat", "x")
    s, e = vocab["<s>"], vocab["</s>"]
    assert enc.input_ids[0] == s and enc.input_ids.count(e) == 3 and vocab["<mask>"] in enc.input_ids
    assert enc.tokens()[2] == " <mask>"                                                  # lstrip
    assert enc.sequence_ids() == [None, 0, 0, 0, None, None, 1, None]


# ----------------------------------------------------------------------------------------------
# Errors that name the thing at fault
# ----------------------------------------------------------------------------------------------
def test_missing_files(tmp_path):
    folder = tmp_path / "no-vocab"
    folder.mkdir()
    (folder / "tokenizer_config.json").write_text(json.dumps({"tokenizer_class": "BertTokenizer"}))
    with pytest.raises(OSError, match=r"no-vocab.*vocab\.txt"):
        WordPieceTokenizer.from_pretrained(folder)
    with pytest.raises(OSError, match=r"no-vocab.*vocab\.txt"):
        AutoTokenizer.from_pretrained(folder)


def test_bad_vocab_files(tmp_path):
    (tmp_path / "vocab.txt").write_text("[PAD]\n[UNK]\nhello\nworld\nhello\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"vocab\.txt, line 5: token 'hello' is already on line 3"):
        AutoTokenizer.from_pretrained(tmp_path)
    (tmp_path / "vocab.txt").write_text("[PAD]\n[CLS]\n[SEP]\nhello\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"no unknown token '\[UNK\]'"):
        AutoTokenizer.from_pretrained(tmp_path)
    (tmp_path / "vocab.txt").write_text("", encoding="utf-8")
    with pytest.raises(ValueError, match="empty"):
        AutoTokenizer.from_pretrained(tmp_path)
    (tmp_path / "vocab.txt").unlink()
    data = {"model": {"type": "WordPiece", "vocab": {"a": 0}, "unk_token": "[UNK]"},
            "normalizer": {"type": "NFKC"}, "pre_tokenizer": {"type": "BertPreTokenizer"}}
    (tmp_path / "tokenizer.json").write_text(json.dumps(data))
    with pytest.raises(ValueError, match=r"normalizer 'NFKC' is not supported"):
        WordPieceTokenizer.from_pretrained(tmp_path)
    data["normalizer"] = None
    (tmp_path / "tokenizer.json").write_text(json.dumps(data))
    with pytest.raises(ValueError, match=r"no unknown token '\[UNK\]'"):
        WordPieceTokenizer.from_pretrained(tmp_path)


def test_call_errors(tok):
    with pytest.raises(ValueError, match=r"token id 30522 .*vocab size 30522"):
        tok.decode([101, 30522])
    with pytest.raises(ValueError, match=r"stride=6 must be smaller than max_length=8 minus the 2 special"):
        tok("a long enough text to truncate here", truncation=True, max_length=8, stride=6,
            return_overflowing_tokens=True)
    with pytest.raises(ValueError, match=r"stride=10 must be smaller than max_length=8"):
        tok("short", truncation=True, max_length=8, stride=10)
    with pytest.raises(ValueError, match=r"return_overflowing_tokens=True needs truncation.*truncation=False"):
        tok("some text", truncation=False, max_length=4, return_overflowing_tokens=True)
    with pytest.raises(ValueError, match=r"return_overflowing_tokens=True needs truncation.*None"):
        tok("some text", return_overflowing_tokens=True)
    with pytest.raises(ValueError, match=r"stride must be a non-negative int"):
        tok("some text", truncation=True, max_length=4, stride=-1)
    question = "a question that is far too long for the window " * 3
    with pytest.raises(ValueError, match=r"only_second.*first sequence has \d+ tokens.*longest_first"):
        tok(question, "the context", truncation="only_second", max_length=16)
    with pytest.raises(ValueError, match=r"only_second.*needs a text_pair"):
        tok("one two three four five six", truncation="only_second", max_length=4)
    with pytest.raises(TypeError, match="got int"):
        tok(12)


# ----------------------------------------------------------------------------------------------
# Live comparison with transformers (`make parity`; not needed by the rest of this file)
# ----------------------------------------------------------------------------------------------
CALL_OPTIONS = [
    {}, {"padding": True}, {"padding": "max_length", "max_length": 24}, {"truncation": True, "max_length": 6},
    {"padding": True, "pad_to_multiple_of": 8, "return_tensors": "np"},
    {"padding": True, "return_offsets_mapping": True, "return_special_tokens_mask": True, "return_length": True},
    {"truncation": "only_second", "max_length": 12}, {"add_special_tokens": False},
    {"return_token_type_ids": False}, {"return_token_type_ids": True},
    {"truncation": True, "max_length": 8, "stride": 2, "return_overflowing_tokens": True,
     "return_offsets_mapping": True},
    {"truncation": "only_second", "max_length": 12, "stride": 3, "return_overflowing_tokens": True,
     "padding": True, "return_special_tokens_mask": True},
    {"truncation": "only_first", "max_length": 12, "stride": 1, "return_overflowing_tokens": True,
     "padding": "max_length", "return_tensors": "np", "return_offsets_mapping": True},
]


def compare_with_transformers(hf, mine, texts, pairs, sides=("right", "left")):
    for side in sides:
        hf.padding_side = hf.truncation_side = mine.padding_side = mine.truncation_side = side
        for kwargs in CALL_OPTIONS:
            for args in [(texts[0],), (texts,), (texts[0], pairs[0]), (texts, pairs)]:
                try:
                    expected = hf(*args, **kwargs)
                except BaseException:                  # e.g. only_second without a pair
                    with pytest.raises(ValueError):
                        mine(*args, **kwargs)
                    continue
                got = mine(*args, **kwargs)
                assert list(expected) == list(got), (kwargs, args)
                for key in expected:
                    a, b = expected[key], got[key]
                    if isinstance(a, np.ndarray):
                        assert a.dtype == b.dtype and np.array_equal(a, b), (key, kwargs, args)
                    else:
                        assert json.dumps(a) == json.dumps(b), (key, kwargs, args)
                for i in range(len(expected.encodings)):
                    assert expected.sequence_ids(i) == got.sequence_ids(i)
                    assert expected.word_ids(i) == got.word_ids(i)


@pytest.mark.parity
def test_call_matches_transformers(minilm_dir, vocab_dir, tmp_path):
    transformers = pytest.importorskip("transformers")
    texts = ["Hello world, this is a longer sentence with many words in it.", "Hi",
             "Héllo 日本 😀 isn't it?", ""]
    pairs = ["and a pair that is long enough to be cut in windows", "x", "", "yy zz"]
    distil = tmp_path / "distil"
    distil.mkdir()
    shutil.copy(vocab_dir / "vocab.txt", distil / "vocab.txt")
    (distil / "tokenizer_config.json").write_text(json.dumps({"tokenizer_class": "DistilBertTokenizer",
                                                              "model_max_length": 512}))
    for folder in (minilm_dir, vocab_dir, distil):
        hf = transformers.AutoTokenizer.from_pretrained(str(folder))
        mine = AutoTokenizer.from_pretrained(folder)
        assert hf.model_input_names == mine.model_input_names
        assert hf.clean_up_tokenization_spaces == mine.clean_up_tokenization_spaces
        assert hf.all_special_tokens == mine.all_special_tokens and hf.all_special_ids == mine.all_special_ids
        compare_with_transformers(hf, mine, texts, pairs,
                                  sides=("right", "left") if folder == minilm_dir else ("right",))
        for text in CORPUS:
            ids = hf.encode(text)
            assert mine.encode(text) == ids
            for skip in (False, True):
                assert mine.decode(ids, skip_special_tokens=skip) == hf.decode(ids, skip_special_tokens=skip)
    # what save_pretrained writes (a trained vocabulary) loads in transformers as the same tokenizer
    trained = WordPieceTokenizer.train(CORPUS_FILE.read_text(encoding="utf-8").splitlines(), vocab_size=300)
    trained.save_pretrained(tmp_path / "trained")
    hf = transformers.AutoTokenizer.from_pretrained(str(tmp_path / "trained"))
    assert type(hf).__name__ == "BertTokenizerFast"
    compare_with_transformers(hf, trained, texts, pairs, sides=("right",))
