"""Live parity of the Unigram / SentencePiece / Marian tokenizers (`make parity`).

Against the references themselves: transformers' MarianTokenizer (ids, labels, decoding) and
the sentencepiece package (pieces, ids, decoding) on the fixture corpus plus seeded random
text, and the `tokenizers` library on the same models written as tokenizer.json files.
"""
import random
import sys
from pathlib import Path

import pytest

spm = pytest.importorskip("sentencepiece")
transformers = pytest.importorskip("transformers")
tokenizers = pytest.importorskip("tokenizers")

from minitf.tokenizers import AutoTokenizer, MarianTokenizer  # noqa: E402
from minitf.tokenizers.spm_model import SentencePieceProcessor, read_spm_model  # noqa: E402

pytestmark = pytest.mark.parity

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "weights"))
from make_fixtures_spm import CORPUS, SOURCE_TEXT, TARGET_TEXT  # noqa: E402

FOLDERS = [ROOT / "weights" / "tiny-marian-tokenizer", ROOT / "weights" / "tiny-marian-tokenizer-separate"]
MODELS = [FOLDERS[0] / "source.spm", FOLDERS[0] / "target.spm",
          ROOT / "tests" / "fixtures" / "spm_byte_fallback.model"]

# Characters random strings are drawn from: every kind the normalizer and the lattice treat
# differently (spaces of all sorts, NFKC-affected forms, combining marks, unknown scripts).
POOL = list("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 .,;:!?'\"-()[]<>/\\") + \
    list("éèêëàâäôöûüçñßøåÉÀÇ") + ["  ", "\t", "\n", "\u00a0", "\u3000", "\u2009", "\u200b", "\u00ad"] + \
    list("ＡＢＣａｂｃ１２３！？ﬁﬂﬀ①②½²™℃㎏ｶﾀ") + ["e\u0301", "a\u0308", "\u0301"] + \
    list("αβγδΩЖжщ你好世界日本語한국어مرحبا") + ["😀", "🎉", "👩\u200d👧", "🇫🇷", "▁", ">>", "<<", "</s>", "<unk>"]


def random_texts(n: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    return ["".join(rng.choice(POOL) for _ in range(rng.randint(0, 40))) for _ in range(n)]


TEXTS = CORPUS + SOURCE_TEXT.splitlines() + TARGET_TEXT.splitlines() + random_texts(400, seed=0)


@pytest.mark.parametrize("path", MODELS, ids=lambda p: p.name)
def test_sentencepiece_pieces_ids_and_decoding(path):
    ref = spm.SentencePieceProcessor(model_file=str(path))
    ours = SentencePieceProcessor.load(path)
    for text in TEXTS:
        pieces = ref.encode(text, out_type=str)
        assert ours.encode_as_pieces(text) == pieces, text
        assert ours.encode_as_ids(text) == ref.encode(text), text
        assert ours.decode_pieces(pieces) == ref.decode_pieces(pieces), text
        assert ours.decode_ids(ref.encode(text)) == ref.decode(ref.encode(text)), text


@pytest.mark.parametrize("folder", FOLDERS, ids=lambda p: p.name)
def test_marian_tokenizer_against_transformers(folder):
    ref = transformers.MarianTokenizer.from_pretrained(str(folder))
    ours = MarianTokenizer.from_pretrained(folder)
    for text in TEXTS:
        expected = ref(text, text_target=text)
        got = ours(text, text_target=text)
        assert got["input_ids"] == expected["input_ids"], text
        assert got["labels"] == expected["labels"], text
        for ids in (expected["input_ids"], expected["labels"]):
            assert ours.decode(ids) == ref.decode(ids), text
            assert ours.decode(ids, skip_special_tokens=True) == ref.decode(ids, skip_special_tokens=True), text
    batch = TEXTS[:8]
    expected = ref(batch, text_target=batch[::-1], padding=True, truncation=True, max_length=12)
    got = ours(batch, text_target=batch[::-1], padding=True, truncation=True, max_length=12)
    assert dict(got) == dict(expected)
    assert ours.supported_language_codes == ref.supported_language_codes
    assert ours.batch_decode(expected["labels"]) == ref.batch_decode(expected["labels"])


@pytest.mark.parametrize("path", [MODELS[0], MODELS[2]], ids=lambda p: p.name)
def test_tokenizer_json_unigram_against_tokenizers(path, tmp_path):
    """The model as a `tokenizers` file (Precompiled + Replace normalizers, Metaspace, an
    appended </s>): minitf's UnigramTokenizer gives the library's ids and decoded text."""
    from tokenizers import Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors
    proto = read_spm_model(path)
    byte_fallback = proto.trainer_spec.byte_fallback
    ref = Tokenizer(models.Unigram([(p.piece, p.score) for p in proto.pieces], unk_id=0,
                                   byte_fallback=byte_fallback))
    ref.normalizer = normalizers.Sequence([normalizers.Precompiled(proto.normalizer_spec.precompiled_charsmap),
                                           normalizers.Replace(Regex(" {2,}"), " ")])
    ref.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always")
    metaspace = decoders.Metaspace(replacement="▁", prepend_scheme="always")
    ref.decoder = decoders.Sequence([decoders.ByteFallback(), metaspace]) if byte_fallback else metaspace
    ref.add_special_tokens(["<unk>", "</s>"])
    ref.post_processor = processors.TemplateProcessing(single="$A </s>", pair="$A $B </s>",
                                                       special_tokens=[("</s>", 2)])
    ref.save(str(tmp_path / "tokenizer.json"))
    ours = AutoTokenizer.from_pretrained(tmp_path)
    for text in TEXTS:
        expected = ref.encode(text)
        assert ours.encode(text) == expected.ids, text
        assert ours.decode(expected.ids, skip_special_tokens=True) == ref.decode(expected.ids), text
