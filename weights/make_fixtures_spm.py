"""Make the committed SentencePiece / Marian tokenizer fixtures (run by hand; needs the
'reference' extra: transformers and sentencepiece).

    python weights/make_fixtures_spm.py

Writes
- two small SentencePiece Unigram models trained with the `sentencepiece` package on
  `SOURCE_TEXT` (+ a few standard-library docstrings) / `TARGET_TEXT` below (English / French, both with some German,
  Spanish, Greek, Russian, Arabic, Chinese and emoji; the default ``nmt_nfkc`` normalizer, so
  the precompiled character map is in the files), saved with transformers' MarianTokenizer
  into ``weights/tiny-marian-tokenizer/`` (source.spm, target.spm, one shared vocab.json with
  ``>>fra<<``-style language codes, tokenizer_config.json, special_tokens_map.json) and, with
  ``separate_vocabs=True``, into ``weights/tiny-marian-tokenizer-separate/`` (vocab.json +
  target_vocab.json). A few pieces are left out of vocab.json on purpose, so "piece not in the
  vocabulary -> <unk>" is exercised;
- ``tests/fixtures/spm_byte_fallback.model``: a Unigram model with ``byte_fallback=True`` and
  two user-defined symbols, for the byte-fallback and user-defined paths;
- ``tests/fixtures/marian_tokenizer_expected.json``: for every string of `CORPUS`, what
  transformers' MarianTokenizer gives (source ids, target ids, tokens, decoded text with and
  without special tokens, for both folders), padded/truncated batches, and what the
  sentencepiece package gives for the byte-fallback model (pieces, ids, decoded text).

The tests (tests/test_tokenizer_unigram.py) compare minitf against this file without torch or
sentencepiece; tests/test_tokenizer_unigram_parity.py compares live.
"""
from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FOLDER = ROOT / "weights" / "tiny-marian-tokenizer"
SEPARATE = ROOT / "weights" / "tiny-marian-tokenizer-separate"
BYTE_MODEL = ROOT / "tests" / "fixtures" / "spm_byte_fallback.model"
EXPECTED = ROOT / "tests" / "fixtures" / "marian_tokenizer_expected.json"

SOURCE_TEXT = """\
The quick brown fox jumps over the lazy dog. Hello world! How are you today?
My name is Sylvain and I work at Hugging Face in Brooklyn, New York City.
A tokenizer turns text into numbers; the model turns numbers into scores.
Translation models read a sentence in one language and write it in another.
Numbers such as 3.14159, 2026, 1,000,000 and 42 are split into pieces.
The meeting is at 10:30 on Monday, 12 May 2025 -- don't be late!
Prices went up by 7.5% last year (from $12.99 to $13.96).
E-mail me at someone@example.com or visit https://example.org/path?x=1.
"Quotes", 'single quotes', [brackets], {braces} and <angle brackets>.
She said: "It's fine." He replied: "No, it isn't!" They laughed.
The café served crème brûlée and a naïve piñata at the fiancée's soirée.
Straße, Müller, Österreich, Zürich and Köln are German words with umlauts.
El niño comió una manzana en la mañana. ¿Dónde está la biblioteca? ¡Hola!
Η γρήγορη καφέ αλεπού πηδάει πάνω από τον τεμπέλη σκύλο.
Быстрая коричневая лиса прыгает через ленивую собаку.
مرحبا بالعالم، كيف حالك اليوم؟
你好，世界！今天天气很好。我们学习机器翻译。
I love this 😀 so much 🎉 and that 👍 too.
Tabs\tand  double  spaces   and newlines
are all whitespace for the tokenizer.
Learning rates of 1e-4, 3e-5 and 0.001 are common; batch sizes of 16, 32 or 64.
The encoder reads the source sentence once and the decoder writes the translation.
Attention lets every word look at every other word of the sentence.
Sub-word units keep the vocabulary small and still cover rare words like tokenization.
"""

TARGET_TEXT = """\
Le renard brun rapide saute par-dessus le chien paresseux. Bonjour le monde !
Je m'appelle Sylvain et je travaille chez Hugging Face à Brooklyn, à New York.
Un tokeniseur transforme le texte en nombres ; le modèle transforme les nombres en scores.
Les modèles de traduction lisent une phrase dans une langue et l'écrivent dans une autre.
Des nombres comme 3,14159, 2026, 1 000 000 et 42 sont découpés en morceaux.
La réunion est à 10 h 30 le lundi 12 mai 2025 – ne soyez pas en retard !
Les prix ont augmenté de 7,5 % l'an dernier (de 12,99 € à 13,96 €).
Écrivez-moi à quelqu'un@exemple.fr ou visitez https://exemple.fr/chemin?x=1.
« Guillemets », 'apostrophes', [crochets], {accolades} et <chevrons>.
Elle a dit : « C'est bien. » Il a répondu : « Non, ce n'est pas vrai ! » Ils ont ri.
Le café servait une crème brûlée et une piñata naïve à la soirée de la fiancée.
Où est la bibliothèque ? Ça va très bien, merci. L'été dernier, nous étions à Noël.
Der schnelle braune Fuchs springt über den faulen Hund. Straße, Müller, Größe.
El zorro marrón rápido salta sobre el perro perezoso. ¿Qué tal? ¡Muy bien!
Η αλεπού και ο σκύλος. Лиса и собака. 狐狸和狗。
J'adore ça 😀 vraiment 🎉 et aussi 👍.
L'encodeur lit la phrase source une fois et le décodeur écrit la traduction.
L'attention permet à chaque mot de regarder tous les autres mots de la phrase.
Les unités sous-lexicales gardent un vocabulaire petit et couvrent les mots rares.
"""

# Language codes of a multilingual Marian model (target side), put at the start of vocab.json.
LANGUAGE_CODES = [">>fra<<", ">>deu<<", ">>spa<<"]
# Pieces left out of vocab.json: sentencepiece still produces them, MarianTokenizer maps them
# to <unk>.
DROPPED = ["▁sentence", "▁traduction", "▁numbers"]

CORPUS = [
    "Hello world!",
    "The quick brown fox jumps over the lazy dog.",
    "Le renard brun rapide saute par-dessus le chien paresseux.",
    "",
    " ",
    "   leading and trailing spaces   ",
    "Tabs\tand\t\ttabs, new\nlines and\r\nCRLF.",
    "multiple     spaces    between words",
    "café crème brûlée naïve piñata fiancée soirée",
    "Straße Müller Österreich Zürich Köln Größe",
    "e\u0301 (e + combining acute) vs é, A\u030a vs Å",
    "¿Dónde está la biblioteca? ¡Hola, señor!",
    "Numbers: 3.14159, 2026, 1,000,000, 42nd, 7.5% and $12.99.",
    "Time 10:30, date 12/05/2025, phone +33 1 23 45 67 89.",
    "E-mail someone@example.com or https://example.org/path?x=1&y=2#frag",
    "\"Quotes\", 'single', [brackets], {braces} and <angles>.",
    "« Guillemets » et l'apostrophe’s curly ‘quotes’ “double”.",
    "Em—dash, en–dash, ellipsis… and bullet • points",
    "I love this 😀 so much 🎉 and that 👍 too.",
    "Emoji runs: 😀😀😀 🤖🧠 👩‍👩‍👧 🇫🇷",
    "Η γρήγορη καφέ αλεπού πηδάει.",
    "Быстрая коричневая лиса прыгает через ленивую собаку.",
    "مرحبا بالعالم، كيف حالك؟",
    "你好，世界！今天天气很好。",
    "日本語のテキストと한국어 텍스트",
    "Mixed: hello мир 世界 عالم κόσμε!",
    "Full-width: ＨＥＬＬＯ ｗｏｒｌｄ １２３ ！？",
    "Ligatures: ﬁne ﬂow ﬀ ﬃ ﬄ ﬅ ﬆ",
    "Circled ① ② ③, roman Ⅻ ⅳ, fractions ½ ¼ ¾, super x² y³",
    "™ ℠ © ® ℃ ℉ № ㎏ ㍱ ｶﾀｶﾅ",
    "Non-breaking\u00a0space, thin\u2009space, ideographic\u3000space.",
    "Zero\u200bwidth\u200cjoiners\u200dhere and soft\u00adhyphen",
    "Control\x01chars\x07and\x1bescape",
    "Ｆｕｌｌ－ｗｉｄｔｈ　ｓｅｎｔｅｎｃｅ．",
    "The encoder reads the source sentence once.",
    "Attention lets every word look at every other word.",
    "tokenization, tokenizer, tokenizers, tokenize, tokenized",
    "UPPERCASE lowercase MiXeD CaSe",
    "a b c d e f g h i j k l m n o p q r s t u v w x y z",
    "!!!???...,,,;;;:::---___",
    "x" * 50,
    "supercalifragilisticexpialidocious antidisestablishmentarianism",
    "Hello </s> world",
    "<unk> and <pad> in text",
    "</s></s>",
    ">>fra<< Hello world",
    ">>deu<<Guten Tag",
    "hello >>fra<< in the middle",
    ">>not closed",
    "▁ the meta symbol itself ▁▁",
    "back\\slash and forward/slash | pipe ~ tilde ^ caret ` backtick",
    "Math: ∑ ∫ √ ∞ ≈ ≠ ≤ ≥ ± × ÷ ∂",
    "Currency: € £ ¥ ₹ ₽ ₩ ¢",
    "Arrows → ← ↑ ↓ ⇒ and box ─│┌┐",
    "The café’s “naïve” façade — 3½ stars ★★★☆☆",
    " Je m'appelle Sylvain et je travaille chez Hugging Face à Brooklyn. ",
    "Où est la bibliothèque ? Ça va très bien, merci.",
    "Der schnelle braune Fuchs springt über den faulen Hund.",
    "El zorro marrón rápido salta sobre el perro perezoso.",
    ("A long paragraph: the encoder reads the source sentence once and the decoder writes the "
     "translation one token at a time, looking back at the encoder's states through "
     "cross-attention; sub-word units keep the vocabulary small and still cover rare words, "
     "numbers like 3.14159 and 2026, names like Sylvain, Brooklyn and Zürich, and even "
     "emoji 😀 or scripts it has never seen such as ქართული and ગુજરાતી. ") * 3,
]

BATCH = ["Hello world!", "A much longer sentence about translation models and tokenizers.", ""]


def stdlib_text() -> str:
    """More English for the source side: the docstrings of a few standard-library modules."""
    import bisect, heapq, json, string, textwrap, fractions, difflib, calendar  # noqa: E401
    return "\n".join(m.__doc__ for m in (bisect, heapq, json, string, textwrap, fractions,
                                          difflib, calendar))


def train(text: str, prefix: Path, vocab_size: int, **options) -> Path:
    """Train in `prefix`'s folder with relative names, so the file (which records its training
    input's path) is the same from run to run."""
    import contextlib
    import os

    import sentencepiece as spm
    prefix.with_suffix(".txt").write_text(text, encoding="utf-8")
    with contextlib.chdir(prefix.parent):
        spm.SentencePieceTrainer.train(
            input=prefix.name + ".txt", model_prefix=prefix.name, vocab_size=vocab_size,
            model_type="unigram", character_coverage=0.995, num_threads=1,
            seed_sentencepiece_size=100000, shuffle_input_sentence=False, minloglevel=2, **options)
    assert os.path.isfile(prefix.with_suffix(".model"))
    return prefix.with_suffix(".model")


def marian_vocab(source: Path, target: Path, drop: list[str]) -> dict[str, int]:
    """Marian's vocab.json: </s> 0, <unk> 1, language codes, every piece of both models, <pad>."""
    import sentencepiece as spm
    vocab = {"</s>": 0, "<unk>": 1}
    for code in LANGUAGE_CODES:
        vocab[code] = len(vocab)
    for path in (source, target):
        sp = spm.SentencePieceProcessor(model_file=str(path))
        for i in range(sp.get_piece_size()):
            piece = sp.id_to_piece(i)
            if sp.is_control(i) or sp.is_unknown(i) or piece in drop:
                continue
            vocab.setdefault(piece, len(vocab))
    vocab["<pad>"] = len(vocab)
    return vocab


def side_vocab(path: Path, drop: list[str]) -> dict[str, int]:
    """A vocab.json of one side only (separate_vocabs): </s>, <unk>, its pieces, <pad>."""
    import sentencepiece as spm
    sp = spm.SentencePieceProcessor(model_file=str(path))
    vocab = {"</s>": 0, "<unk>": 1}
    for i in range(sp.get_piece_size()):
        if not (sp.is_control(i) or sp.is_unknown(i) or sp.id_to_piece(i) in drop):
            vocab.setdefault(sp.id_to_piece(i), len(vocab))
    vocab["<pad>"] = len(vocab)
    return vocab


def expected_for(tok) -> dict:
    """What transformers' MarianTokenizer gives on CORPUS (and a batch) for one folder."""
    out = {"source": [], "target": []}
    for text in CORPUS:
        src = tok(text)["input_ids"]
        tgt = tok(text_target=text)["input_ids"]
        out["source"].append({
            "text": text, "ids": src, "tokens": tok.convert_ids_to_tokens(src),
            "decoded": tok.decode(src), "decoded_skip": tok.decode(src, skip_special_tokens=True)})
        out["target"].append({
            "text": text, "ids": tgt, "decoded": tok.decode(tgt),
            "decoded_skip": tok.decode(tgt, skip_special_tokens=True)})
    both = tok(BATCH, text_target=BATCH[::-1], padding=True)
    out["batch"] = {"texts": BATCH, "targets": BATCH[::-1], "input_ids": both["input_ids"],
                    "attention_mask": both["attention_mask"], "labels": both["labels"]}
    trunc = tok(BATCH, truncation=True, max_length=6, padding="max_length")
    out["truncated"] = {"max_length": 6, "input_ids": trunc["input_ids"],
                        "attention_mask": trunc["attention_mask"]}
    out["supported_language_codes"] = tok.supported_language_codes
    out["vocab_size"] = tok.vocab_size
    out["len"] = len(tok)
    return out


def main() -> None:
    import sentencepiece as spm
    from transformers import MarianTokenizer

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        source = train(SOURCE_TEXT + stdlib_text(), tmp / "source", 600)
        target = train(TARGET_TEXT, tmp / "target", 260)
        byte_model = train(SOURCE_TEXT + stdlib_text(), tmp / "bytes", 700, byte_fallback=True,
                           user_defined_symbols=["<sep>", "[MASK]"])
        BYTE_MODEL.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(byte_model, BYTE_MODEL)

        shared_vocab = tmp / "vocab.json"
        shared_vocab.write_text(json.dumps(marian_vocab(source, target, DROPPED), ensure_ascii=False))
        tok = MarianTokenizer(str(source), str(target), str(shared_vocab), source_lang="en",
                              target_lang="fr", model_max_length=512)
        shutil.rmtree(FOLDER, ignore_errors=True)
        tok.save_pretrained(FOLDER)

        src_vocab, tgt_vocab = tmp / "src_vocab.json", tmp / "tgt_vocab.json"
        src_vocab.write_text(json.dumps(side_vocab(source, DROPPED), ensure_ascii=False))
        tgt_vocab.write_text(json.dumps(side_vocab(target, DROPPED), ensure_ascii=False))
        sep = MarianTokenizer(str(source), str(target), str(src_vocab), target_vocab_file=str(tgt_vocab),
                              separate_vocabs=True, source_lang="en", target_lang="fr",
                              model_max_length=128)
        shutil.rmtree(SEPARATE, ignore_errors=True)
        sep.save_pretrained(SEPARATE)

    tok = MarianTokenizer.from_pretrained(FOLDER)
    sep = MarianTokenizer.from_pretrained(SEPARATE)
    expected = {"shared": expected_for(tok), "separate": expected_for(sep)}

    sp = spm.SentencePieceProcessor(model_file=str(BYTE_MODEL))
    expected["byte_fallback"] = [
        {"text": text, "pieces": sp.encode(text, out_type=str), "ids": sp.encode(text),
         "decoded": sp.decode(sp.encode(text))}
        for text in CORPUS + ["<sep> and [MASK] are user-defined<sep>"]]
    EXPECTED.write_text(json.dumps(expected, ensure_ascii=False, indent=1), encoding="utf-8")
    for path in [*FOLDER.iterdir(), *SEPARATE.iterdir(), BYTE_MODEL, EXPECTED]:
        print(f"{path.relative_to(ROOT)}: {path.stat().st_size} bytes")


if __name__ == "__main__":
    main()
