"""Unigram / SentencePiece / Marian tokenizers against golden fixtures (no torch, no sentencepiece).

tests/fixtures/marian_tokenizer_expected.json holds what transformers' MarianTokenizer and the
sentencepiece package give on a varied corpus (weights/make_fixtures_spm.py made it);
tests/test_tokenizer_unigram_parity.py compares live.
"""
import base64
import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from minitf.tokenizers import AutoTokenizer, MarianTokenizer, UnigramTokenizer
from minitf.tokenizers.normalizer import CharsMap, Normalizer
from minitf.tokenizers.spm_model import (
    SentencePieceProcessor, parse_model_proto, read_fields, read_spm_model, read_varint,
)
from minitf.tokenizers.unigram import Unigram

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT / "weights" / "tiny-marian-tokenizer"
SEPARATE = ROOT / "weights" / "tiny-marian-tokenizer-separate"
BYTE_MODEL = ROOT / "tests" / "fixtures" / "spm_byte_fallback.model"
EXPECTED = json.loads((ROOT / "tests" / "fixtures" / "marian_tokenizer_expected.json").read_text("utf-8"))
FOLDERS = {"shared": SHARED, "separate": SEPARATE}


@pytest.fixture(scope="module", params=["shared", "separate"])
def marian(request):
    return request.param, MarianTokenizer.from_pretrained(FOLDERS[request.param])


# ---- golden parity with transformers' MarianTokenizer --------------------------------------------
def test_source_ids_tokens_and_decoding_match_transformers(marian):
    name, tok = marian
    for case in EXPECTED[name]["source"]:
        ids = tok(case["text"])["input_ids"]
        assert ids == case["ids"], case["text"]
        assert tok.convert_ids_to_tokens(ids) == case["tokens"], case["text"]
        assert tok.decode(ids) == case["decoded"], case["text"]
        assert tok.decode(ids, skip_special_tokens=True) == case["decoded_skip"], case["text"]


def test_target_ids_and_decoding_match_transformers(marian):
    name, tok = marian
    for case in EXPECTED[name]["target"]:
        ids = tok(text_target=case["text"])["input_ids"]
        assert ids == case["ids"], case["text"]
        assert tok.decode(ids) == case["decoded"], case["text"]
        assert tok.decode(ids, skip_special_tokens=True) == case["decoded_skip"], case["text"]


def test_batches_with_labels_padding_and_truncation(marian):
    name, tok = marian
    batch = EXPECTED[name]["batch"]
    enc = tok(batch["texts"], text_target=batch["targets"], padding=True)
    assert enc["input_ids"] == batch["input_ids"]
    assert enc["attention_mask"] == batch["attention_mask"]
    assert enc["labels"] == batch["labels"]           # padded on their own, as transformers
    trunc = EXPECTED[name]["truncated"]
    enc = tok(batch["texts"], truncation=True, max_length=trunc["max_length"], padding="max_length",
              return_tensors="np")
    assert enc["input_ids"].dtype == np.int64
    np.testing.assert_array_equal(enc["input_ids"], trunc["input_ids"])
    np.testing.assert_array_equal(enc["attention_mask"], trunc["attention_mask"])
    both = tok(batch["texts"], text_target=batch["targets"], padding=True, return_tensors="np")
    assert both["labels"].shape == (3, len(batch["labels"][0]))


def test_vocabulary_sizes_and_language_codes(marian):
    name, tok = marian
    assert tok.vocab_size == EXPECTED[name]["vocab_size"]
    assert len(tok) == EXPECTED[name]["len"]
    assert tok.supported_language_codes == EXPECTED[name]["supported_language_codes"]
    assert tok.separate_vocabs == (name == "separate")


def test_config_settings_are_read():
    tok = MarianTokenizer.from_pretrained(SHARED)
    assert (tok.source_lang, tok.target_lang, tok.model_max_length) == ("en", "fr", 512)
    assert (tok.eos_token, tok.unk_token, tok.pad_token) == ("</s>", "<unk>", "<pad>")
    assert tok.pad_token_id == tok.vocab["<pad>"] and tok.eos_token_id == 0
    assert MarianTokenizer.from_pretrained(SEPARATE).model_max_length == 128
    assert MarianTokenizer.from_pretrained(SHARED, model_max_length=64).model_max_length == 64


def test_text_target_alone_and_as_target_tokenizer():
    tok = MarianTokenizer.from_pretrained(SHARED)
    target = tok(text_target="Bonjour le monde !")
    assert "labels" not in target
    with tok.as_target_tokenizer():
        assert tok("Bonjour le monde !")["input_ids"] == target["input_ids"]
    assert tok("Bonjour le monde !")["input_ids"] != target["input_ids"]   # back on the source side
    with pytest.raises(ValueError, match="text_target"):
        tok()


def test_language_code_and_unknown_pieces():
    tok = MarianTokenizer.from_pretrained(SHARED)
    assert tok.tokenize(">>fra<< Hello")[0] == ">>fra<<"
    assert tok.encode(">>fra<< Hello")[0] == tok.vocab[">>fra<<"]
    # "▁sentence" is a piece of source.spm but left out of vocab.json: it becomes <unk>
    assert "▁sentence" in tok.source_spm.piece_to_id and "▁sentence" not in tok.vocab
    assert tok.tokenize("sentence") == ["▁sentence"]
    assert tok.encode("sentence") == [tok.unk_token_id, tok.eos_token_id]


def test_offsets_point_into_the_text():
    tok = MarianTokenizer.from_pretrained(SHARED)
    text = "  Ｈｅｌｌｏ   café ﬁne! >>x"
    enc = tok(text, return_offsets_mapping=True, add_special_tokens=False)
    spans = [text[s:e] for s, e in enc["offset_mapping"]]
    assert "".join(spans).replace(" ", "") == text.replace(" ", "")
    assert enc.word_ids()[0] == 0


def test_save_and_reload(tmp_path):
    tok = MarianTokenizer.from_pretrained(SEPARATE)
    names = {Path(p).name for p in tok.save_pretrained(tmp_path)}
    assert {"vocab.json", "target_vocab.json", "source.spm", "target.spm", "tokenizer_config.json"} <= names
    again = MarianTokenizer.from_pretrained(tmp_path)
    text = "Le café servait une crème brûlée 😀."
    assert again(text, text_target=text) == tok(text, text_target=text)
    assert again.separate_vocabs and again.model_max_length == 128


def test_auto_tokenizer_picks_marian(tmp_path):
    assert isinstance(AutoTokenizer.from_pretrained(SHARED), MarianTokenizer)
    for name in ("source.spm", "target.spm", "vocab.json"):
        shutil.copy(SHARED / name, tmp_path / name)
    assert isinstance(AutoTokenizer.from_pretrained(tmp_path), MarianTokenizer)   # the .spm files
    (tmp_path / "config.json").write_text('{"model_type": "marian"}')
    (tmp_path / "source.spm").rename(tmp_path / "elsewhere.spm")
    with pytest.raises(OSError, match="source.spm"):          # model_type marian, file missing
        AutoTokenizer.from_pretrained(tmp_path)


# ---- SentencePiece: the model file, the normalizer, byte fallback --------------------------------
def test_byte_fallback_and_user_defined_match_sentencepiece():
    sp = SentencePieceProcessor.load(BYTE_MODEL)
    assert sp.model_proto.trainer_spec.byte_fallback
    for case in EXPECTED["byte_fallback"]:
        assert sp.encode_as_pieces(case["text"]) == case["pieces"], case["text"]
        assert sp.encode_as_ids(case["text"]) == case["ids"], case["text"]
        assert sp.decode_ids(case["ids"]) == case["decoded"], case["text"]


def test_wire_format_reader():
    assert read_varint(bytes([0xAC, 0x02]), 0) == (300, 2)
    assert list(read_fields(b"\x0a\x03abc\x15\x00\x00\x80\x3f")) == [(1, 2, b"abc"), (2, 5, b"\x00\x00\x80\x3f")]
    model = read_spm_model(SHARED / "source.spm")
    spec = model.trainer_spec
    assert (spec.model_type, spec.unk_id, spec.bos_id, spec.eos_id, spec.pad_id) == (1, 0, 1, 2, -1)
    assert model.normalizer_spec.name == "nmt_nfkc" and len(model.pieces) == 600
    # a nested message that occurs twice is merged, later fields winning (protobuf semantics)
    merged = parse_model_proto(model.serialized + b"\x12\x02\x20\x07")
    assert merged.trainer_spec.vocab_size == 7 and merged.trainer_spec.model_type == 1


def test_charsmap_longest_match():
    table = CharsMap(read_spm_model(SHARED / "source.spm").normalizer_spec.precompiled_charsmap)
    assert table.longest_match("ＡＢ".encode()) == ("A", 3)
    assert table.longest_match("e\u0301x".encode()) == ("é", 3)         # a two-character key
    assert table.longest_match(b"plain") is None
    norm = Normalizer(b"", add_dummy_prefix=False, remove_extra_whitespaces=False)
    assert norm.normalize(" a  b ") == ("▁a▁▁b▁", [0, 1, 2, 3, 4, 5])


def test_unigram_viterbi_and_unknowns():
    model = Unigram([("<unk>", 0.0), ("a", -1.0), ("b", -1.0), ("ab", -1.5), ("<0xC3>", 0.0),
                     ("<0xA9>", 0.0)], unk_id=0)
    assert [p for p, *_ in model.encode("abab")] == ["ab", "ab"]
    assert model.encode("a??b") == [("a", 1, 0, 1), ("??", 0, 1, 3), ("b", 2, 3, 4)]
    fallback = Unigram(model.pieces, unk_id=0, byte_fallback=True)
    assert [p for p, *_ in fallback.encode("aé")] == ["a", "<0xC3>", "<0xA9>"]
    assert [i for _, i, *_ in fallback.encode("a?")] == [1, 0]        # no <0x3F> piece: unknown
    long_text = "ab" * 50_000                                           # linear time, not quadratic
    assert len(model.encode(long_text)) == 50_000


def test_tokenizer_json_unigram_agrees_with_the_spm_model(tmp_path):
    """The same model as tokenizer.json (Precompiled normalizer + Metaspace) gives the ids of
    the .spm file (tests/test_tokenizer_unigram_parity.py checks it against `tokenizers`)."""
    model = read_spm_model(BYTE_MODEL)
    (tmp_path / "tokenizer.json").write_text(json.dumps({
        "added_tokens": [{"id": 0, "content": "<unk>", "special": True},
                         {"id": 2, "content": "</s>", "special": True}],
        "normalizer": {"type": "Sequence", "normalizers": [
            {"type": "Precompiled",
             "precompiled_charsmap": base64.b64encode(model.normalizer_spec.precompiled_charsmap).decode()},
            {"type": "Replace", "pattern": {"Regex": " {2,}"}, "content": " "}]},
        "pre_tokenizer": {"type": "Metaspace", "replacement": "▁", "prepend_scheme": "always", "split": True},
        "decoder": {"type": "Sequence", "decoders": [
            {"type": "ByteFallback"}, {"type": "Metaspace", "replacement": "▁", "prepend_scheme": "always"}]},
        "model": {"type": "Unigram", "unk_id": 0, "byte_fallback": True,
                  "vocab": [[p.piece, p.score] for p in model.pieces]}}), encoding="utf-8")
    tok = AutoTokenizer.from_pretrained(tmp_path)
    assert isinstance(tok, UnigramTokenizer)
    for case in EXPECTED["byte_fallback"]:
        if any(t in case["text"] for t in ("<sep>", "</s>", "<unk>")) or case["text"] != case["text"].strip().strip("▁"):
            # user-defined pieces are .spm-only, </s> and <unk> are added tokens here; this pipeline (as `tokenizers`' converted
            # files) keeps a "▁" for leading / trailing spaces, which SentencePiece drops
            continue
        assert tok.encode(case["text"]) == case["ids"], case["text"]
        assert tok.decode(case["ids"]) == case["decoded"], case["text"]
    tok.save_pretrained(tmp_path / "saved")
    again = AutoTokenizer.from_pretrained(tmp_path / "saved")
    text = "Ｆｕｌｌ-width ﬁne  café 😀 </s>"
    assert again(text, return_offsets_mapping=True) == tok(text, return_offsets_mapping=True)


# ---- bad input: clear errors that name the file ---------------------------------------------------
def _marian_folder(tmp_path):
    for name in ("source.spm", "target.spm", "vocab.json", "tokenizer_config.json"):
        shutil.copy(SHARED / name, tmp_path / name)
    return tmp_path


def test_truncated_spm_file(tmp_path):
    folder = _marian_folder(tmp_path)
    data = (folder / "source.spm").read_bytes()
    (folder / "source.spm").write_bytes(data[:1000])
    with pytest.raises(ValueError, match=r"source\.spm: not a SentencePiece model file.*truncated"):
        MarianTokenizer.from_pretrained(folder)


def test_file_that_is_not_spm(tmp_path):
    folder = _marian_folder(tmp_path)
    shutil.copy(SHARED / "vocab.json", folder / "target.spm")
    with pytest.raises(ValueError, match=r"target\.spm: not a SentencePiece model file"):
        MarianTokenizer.from_pretrained(folder)
    (folder / "target.spm").write_bytes(b"")
    with pytest.raises(ValueError, match=r"target\.spm: .*no pieces"):
        MarianTokenizer.from_pretrained(folder)


def test_bpe_spm_model_is_refused(tmp_path):
    folder = _marian_folder(tmp_path)
    data = (folder / "source.spm").read_bytes()
    (folder / "source.spm").write_bytes(data + b"\x12\x02\x18\x02")   # trainer_spec.model_type = BPE
    with pytest.raises(ValueError, match=r"source\.spm: a BPE SentencePiece model; minitf reads Unigram"):
        MarianTokenizer.from_pretrained(folder)


def test_missing_vocab_and_missing_unk(tmp_path):
    folder = _marian_folder(tmp_path)
    vocab = json.loads((folder / "vocab.json").read_text("utf-8"))
    (folder / "vocab.json").unlink()
    with pytest.raises(OSError, match=r"no Marian tokenizer files in .*missing: vocab\.json"):
        MarianTokenizer.from_pretrained(folder)
    del vocab["<unk>"]
    (folder / "vocab.json").write_text(json.dumps(vocab))
    with pytest.raises(ValueError, match=r"vocab\.json: no unk_token '<unk>'"):
        MarianTokenizer.from_pretrained(folder)


def test_separate_vocabs_needs_target_vocab(tmp_path):
    folder = _marian_folder(tmp_path)
    with pytest.raises(OSError, match="target_vocab.json"):
        MarianTokenizer.from_pretrained(folder, separate_vocabs=True)


def test_bad_tokenizer_json(tmp_path):
    (tmp_path / "tokenizer.json").write_text(json.dumps({"model": {"type": "BPE", "vocab": {}, "merges": []}}))
    with pytest.raises(ValueError, match=r"tokenizer\.json: model type 'BPE' is not Unigram"):
        UnigramTokenizer.from_pretrained(tmp_path)
    (tmp_path / "tokenizer.json").write_text(json.dumps(
        {"normalizer": {"type": "BertNormalizer"}, "model": {"type": "Unigram", "vocab": [["a", -1.0]]}}))
    with pytest.raises(ValueError, match=r"tokenizer\.json: normalizer 'BertNormalizer' is not supported"):
        UnigramTokenizer.from_pretrained(tmp_path)
    (tmp_path / "tokenizer.json").write_text(json.dumps({"model": {"type": "Unigram", "vocab": {"a": 1}}}))
    with pytest.raises(ValueError, match=r"list of \[piece, score\] pairs"):
        UnigramTokenizer.from_pretrained(tmp_path)
