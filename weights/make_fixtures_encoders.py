"""Make the committed golden fixtures for the encoders with transformers (run by hand; needs the
'reference' extra, and `make weights` for the MiniLM part).

    python weights/make_fixtures_encoders.py [--retrain-tokenizers]

Writes
- a small uncased WordPiece vocabulary (1000 tokens) trained with the `tokenizers` library on
  `CORPUS` (reused from weights/tiny-bert when it is there: see `load_or_train`; saved
  with BertTokenizerFast / DistilBertTokenizerFast: vocab.txt, tokenizer.json, configs), and a
  small byte-level BPE with <s> <pad> </s> <unk> <mask> (RobertaTokenizerFast: vocab.json,
  merges.txt, tokenizer.json);
- tiny random checkpoints (2 layers, 32 wide, 4 heads; weights drawn with std 0.3 so the
  outputs are peaked) in the Hugging Face layout, one folder each (see `MODELS`):
  weights/tiny-bert (masked LM), tiny-bert-seqcls, tiny-bert-tokcls, tiny-bert-qa,
  tiny-bert-nli, tiny-distilbert-seqcls, tiny-distilbert-qa, tiny-distilbert-mlm,
  tiny-roberta-mlm, tiny-roberta-seqcls;
- tests/fixtures/encoders_expected.npz: for every folder, what transformers computes on a
  right-padded batch of texts ("single") and of text pairs ("pair", with token_type_ids for
  BERT): logits (MLM: single batch only) or start/end logits, the last hidden state, every
  hidden state and attention map of the "single" batch, plus the bare
  BertModel's last_hidden_state / pooler_output. The input ids and masks are stored too, so
  the tests need neither torch nor a tokenizer;
- tests/fixtures/minilm_expected.npz: the real all-MiniLM-L6-v2's last_hidden_state and
  pooler_output on a few short sentences, with their ids.
"""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
WEIGHTS = ROOT / "weights"
EXPECTED = ROOT / "tests" / "fixtures" / "encoders_expected.npz"
MINILM = WEIGHTS / "real" / "all-MiniLM-L6-v2"
MINILM_EXPECTED = ROOT / "tests" / "fixtures" / "minilm_expected.npz"

CORPUS = """\
My name is Sylvain and I work at Hugging Face in Brooklyn. Hugging Face is a company based in New York City.
Its headquarters are in DUMBO, therefore very close to the Manhattan Bridge which is visible from the window.
I've been waiting for a HuggingFace course my whole life. I hate this so much! This movie was great.
The film was boring, too long and badly acted. What a wonderful day, I love this course.
Paris is the capital of France. Berlin is the capital of Germany, and Rome is the capital of Italy.
Transformers are everywhere: they read, they write, they translate, and they answer questions.
A tokenizer turns text into numbers, the model turns numbers into scores, and the pipeline turns
scores back into answers. The quick brown fox jumps over the lazy dog. Hello world!
BERT is an encoder: every word looks at every other word, on the left and on the right.
The model fills in the blank: the [MASK] sat on the mat. The cat sat on the mat. The dog sat on the log.
Question answering extracts the span of the context that answers the question.
Which deep learning libraries back Transformers? Jax, PyTorch and TensorFlow, with a seamless integration.
Where do I work? I work at Hugging Face. Where does Sylvain live? Sylvain lives in Brooklyn.
Named entity recognition finds the persons, the organizations and the locations in a sentence.
Amazon, Google and Microsoft are companies; John Smith and Marie Curie are persons.
The premise entails the hypothesis, contradicts it, or is neutral. A man is playing a guitar on stage.
A woman is reading a book in the library. Nobody is playing music. Someone is performing for an audience.
Numbers such as 3.14159, 2026 and 42 are split into pieces, and so are rare words like tokenization.
We'll go step by step, and you'll see it's simple. Don't worry: it works offline, on a laptop.
The weather in London is rainy today, but tomorrow will be sunny in Madrid and in Lisbon.
Students learn how attention works, how to fine-tune a model and how to share it with the community.
In this chapter, we will see how to preprocess a dataset, train a classifier and evaluate it carefully.
The teacher explained the difference between an encoder, a decoder and an encoder-decoder architecture.
Sentiment analysis classifies reviews as positive or negative; zero-shot classification needs no labels.
Summarization shortens long documents, and translation turns French sentences into English ones.
The café in Zürich serves a naïve crème brûlée; résumé and façade keep their accents until normalized.
Masked language modeling hides fifteen percent of the words and asks the network to predict them back.
Researchers measured the accuracy, the precision, the recall and the F1 score on the validation split.
Batches are padded to the longest sentence, and the attention mask tells the model to ignore the padding.
Engineers compare every layer against the reference implementation until the numbers agree exactly.
Children played football in the park while their parents watched from the benches under the trees.
The orchestra performed Beethoven's ninth symphony in Vienna, and the audience applauded for minutes.
Scientists discovered a new species of frog in the rainforest of Brazil, near the Amazon river.
Running, jumping, swimming and climbing are activities; happily, quickly and slowly are adverbs.
Unbelievable! Unfortunately, the unexpected announcement was postponed until further notice.
Microsoft, Apple, Amazon and Netflix reported their quarterly earnings on Thursday afternoon.
Emmanuel Macron met Angela Merkel in Brussels to discuss the European Union budget.
Mount Everest is the highest mountain on Earth; the Pacific is the largest and deepest ocean.
"""

SINGLE = ["My name is Sylvain and I work at Hugging Face in Brooklyn.",
          "I hate this so much!",
          "The cat sat on the [MASK]."]
PAIRS = [("Where do I work?", "My name is Sylvain and I work at Hugging Face in Brooklyn."),
         ("A man is playing a guitar.", "Nobody is playing music.")]
ROBERTA_SINGLE = [s.replace("[MASK]", "<mask>") for s in SINGLE]

NER = ["O", "B-PER", "I-PER", "B-ORG", "I-ORG", "B-LOC", "I-LOC", "B-MISC", "I-MISC"]
BERT = dict(hidden_size=32, num_hidden_layers=2, num_attention_heads=4, intermediate_size=64,
            max_position_embeddings=128)
DISTILBERT = dict(dim=32, n_layers=2, n_heads=4, hidden_dim=64, max_position_embeddings=128)
ROBERTA = dict(hidden_size=32, num_hidden_layers=2, num_attention_heads=4, intermediate_size=64,
               max_position_embeddings=130, type_vocab_size=1)  # 128 tokens: positions start at 2


def labels(names):
    return {"id2label": dict(enumerate(names)), "label2id": {n: i for i, n in enumerate(names)}}


# folder -> (family, transformers class, config kwargs, seed)
MODELS = {
    "tiny-bert": ("bert", "BertForMaskedLM", BERT, 0),
    "tiny-bert-seqcls": ("bert", "BertForSequenceClassification",
                         {**BERT, **labels(["NEGATIVE", "NEUTRAL", "POSITIVE"])}, 1),
    "tiny-bert-tokcls": ("bert", "BertForTokenClassification", {**BERT, **labels(NER)}, 2),
    "tiny-bert-qa": ("bert", "BertForQuestionAnswering", BERT, 3),
    "tiny-bert-nli": ("bert", "BertForSequenceClassification",
                      {**BERT, **labels(["contradiction", "neutral", "entailment"])}, 4),
    "tiny-distilbert-seqcls": ("distilbert", "DistilBertForSequenceClassification",
                               {**DISTILBERT, **labels(["NEGATIVE", "POSITIVE"])}, 5),
    "tiny-distilbert-qa": ("distilbert", "DistilBertForQuestionAnswering", DISTILBERT, 6),
    "tiny-distilbert-mlm": ("distilbert", "DistilBertForMaskedLM", DISTILBERT, 7),
    "tiny-roberta-mlm": ("roberta", "RobertaForMaskedLM", ROBERTA, 8),
    "tiny-roberta-seqcls": ("roberta", "RobertaForSequenceClassification",
                            {**ROBERTA, **labels(["NEGATIVE", "POSITIVE"])}, 9),
}

MINILM_SENTENCES = ["This is an example sentence.", "Each sentence is converted.",
                    "The cat sits outside.", "A man is playing guitar."]


def train_wordpiece():
    """An uncased WordPiece (BERT's normaliser and pre-tokeniser), [PAD]=0 [UNK]=1 [CLS]=2
    [SEP]=3 [MASK]=4, with the [CLS] A [SEP] B [SEP] template."""
    from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers

    tok = Tokenizer(models.WordPiece(unk_token="[UNK]", max_input_chars_per_word=100))
    tok.normalizer = normalizers.BertNormalizer(lowercase=True, strip_accents=None,
                                                clean_text=True, handle_chinese_chars=True)
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tok.decoder = decoders.WordPiece(prefix="##")
    specials = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    trainer = trainers.WordPieceTrainer(vocab_size=1000, special_tokens=specials,
                                        continuing_subword_prefix="##")
    tok.train_from_iterator(CORPUS.splitlines() * 4, trainer)
    tok.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]", pair="[CLS] $A [SEP] $B:1 [SEP]:1",
        special_tokens=[("[CLS]", tok.token_to_id("[CLS]")), ("[SEP]", tok.token_to_id("[SEP]"))])
    return tok


def train_bytelevel_bpe():
    """A byte-level BPE as RoBERTa's: <s>=0 <pad>=1 </s>=2 <unk>=3 <mask>=4, <s> A </s></s> B </s>."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=1000, special_tokens=["<s>", "<pad>", "</s>", "<unk>", "<mask>"],
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tok.train_from_iterator(CORPUS.splitlines() * 4, trainer)
    tok.post_processor = processors.RobertaProcessing(sep=("</s>", 2), cls=("<s>", 0),
                                                      trim_offsets=True, add_prefix_space=False)
    return tok


def load_or_train(folder: str, train, retrain: bool):
    """The committed tokenizer of `folder` when there is one (WordPiece training breaks ties
    differently from run to run, so retraining would change the vocabulary under every fixture
    made from it); a freshly trained one with --retrain-tokenizers or on a fresh checkout."""
    from tokenizers import Tokenizer

    path = WEIGHTS / folder / "tokenizer.json"
    if path.is_file() and not retrain:
        tok = Tokenizer.from_file(str(path))
    else:
        tok = train()
    tok.no_padding()
    tok.no_truncation()
    return tok


def fast_tokenizers(retrain: bool = False):
    from transformers import BertTokenizerFast, DistilBertTokenizerFast, RobertaTokenizerFast

    wp = load_or_train("tiny-bert", train_wordpiece, retrain)
    specials = dict(unk_token="[UNK]", sep_token="[SEP]", pad_token="[PAD]", cls_token="[CLS]",
                    mask_token="[MASK]", do_lower_case=True, model_max_length=128)
    bpe = load_or_train("tiny-roberta-mlm", train_bytelevel_bpe, retrain)
    return {
        "bert": BertTokenizerFast(tokenizer_object=wp, **specials),
        "distilbert": DistilBertTokenizerFast(tokenizer_object=wp, **specials),
        "roberta": RobertaTokenizerFast(tokenizer_object=bpe, bos_token="<s>", eos_token="</s>",
                                        sep_token="</s>", cls_token="<s>", unk_token="<unk>",
                                        pad_token="<pad>", mask_token="<mask>", model_max_length=128),
    }


def make_model(folder: Path, family: str, cls_name: str, config: dict, seed: int, tok):
    import torch
    import transformers

    cfg_cls = {"bert": transformers.BertConfig, "distilbert": transformers.DistilBertConfig,
               "roberta": transformers.RobertaConfig}[family]
    cfg = cfg_cls(vocab_size=len(tok), pad_token_id=tok.pad_token_id, **config)
    if family == "roberta":
        cfg.bos_token_id, cfg.eos_token_id = tok.bos_token_id, tok.eos_token_id
    cfg._attn_implementation = "eager"  # explicit softmax weights, so attentions are returned
    torch.manual_seed(seed)
    model = getattr(transformers, cls_name)(cfg).eval()
    with torch.no_grad():
        for name, p in model.named_parameters():
            if p.ndim >= 2:
                p.normal_(0.0, 0.3)
            elif name.endswith("weight") and ("LayerNorm" in name or "layer_norm" in name):
                p.uniform_(0.8, 1.2)
            else:
                p.normal_(0.0, 0.05)
    shutil.rmtree(folder, ignore_errors=True)
    model.save_pretrained(folder, safe_serialization=True)
    tok.backend_tokenizer.no_padding()  # encode(padding=True) leaves it set: keep it out of
    tok.backend_tokenizer.no_truncation()  # tokenizer.json, or every later load would pad
    tok.save_pretrained(folder)
    return model


def encode(tok, family: str, texts, pairs=None) -> dict:
    if pairs is None:
        enc = tok(texts, padding=True, return_tensors="np")
    else:
        enc = tok([a for a, _ in pairs], [b for _, b in pairs], padding=True, return_tensors="np")
    keys = ["input_ids", "attention_mask"] + (["token_type_ids"] if family == "bert" else [])
    return {k: enc[k].astype(np.int64) for k in keys}


def expected_outputs(model, tok, family: str, tag: str) -> dict:
    import torch

    out = {}
    batches = {"single": encode(tok, family, ROBERTA_SINGLE if family == "roberta" else SINGLE),
               "pair": encode(tok, family, None, PAIRS)}
    for bname, inputs in batches.items():
        for k, v in inputs.items():
            out[f"{tag}/{bname}/{k}"] = v
        with torch.no_grad():
            r = model(**{k: torch.from_numpy(v) for k, v in inputs.items()},
                      output_hidden_states=True, output_attentions=True)
        for field in ("logits", "start_logits", "end_logits"):
            if getattr(r, field, None) is not None:
                if field == "logits" and bname == "pair" and r.logits.shape[-1] == len(tok):
                    continue  # MLM logits of the pairs: 170 KB that say no more than the last hidden
                out[f"{tag}/{bname}/{field}"] = getattr(r, field).numpy()
        out[f"{tag}/{bname}/last_hidden"] = r.hidden_states[-1].numpy()
        if bname == "single":  # every layer, on one batch
            for i, h in enumerate(r.hidden_states):
                out[f"{tag}/{bname}/hidden_{i}"] = h.numpy()
            for i, a in enumerate(r.attentions):
                out[f"{tag}/{bname}/attn_{i}"] = a.numpy()
    return out


def base_outputs(folder: Path, tok) -> dict:
    """The bare BertModel (with its pooler) from the sequence classifier's checkpoint."""
    import torch
    from transformers import BertModel

    model = BertModel.from_pretrained(folder, attn_implementation="eager").eval()
    out = {}
    for bname, inputs in {"single": encode(tok, "bert", SINGLE),
                          "pair": encode(tok, "bert", None, PAIRS)}.items():
        with torch.no_grad():
            r = model(**{k: torch.from_numpy(v) for k, v in inputs.items()})
        out[f"bert-base/{bname}/last_hidden_state"] = r.last_hidden_state.numpy()
        out[f"bert-base/{bname}/pooler_output"] = r.pooler_output.numpy()
    return out


def minilm_expected() -> dict:
    import torch
    from transformers import AutoModel, AutoTokenizer

    tok = AutoTokenizer.from_pretrained(MINILM)
    enc = tok(MINILM_SENTENCES, padding=True, return_tensors="np")  # longest, not the file's 128
    inputs = {k: enc[k].astype(np.int64) for k in ("input_ids", "attention_mask", "token_type_ids")}
    model = AutoModel.from_pretrained(MINILM).eval()
    with torch.no_grad():
        r = model(**{k: torch.from_numpy(v) for k, v in inputs.items()})
    return {**inputs, "last_hidden_state": r.last_hidden_state.numpy(),
            "pooler_output": r.pooler_output.numpy(), "sentences": np.array(MINILM_SENTENCES)}


def main(argv=None):
    import argparse

    import transformers

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--retrain-tokenizers", action="store_true",
                    help="train new vocabularies instead of reusing the committed ones")
    args = ap.parse_args(argv)
    toks = fast_tokenizers(args.retrain_tokenizers)
    out = {}
    for name, (family, cls_name, config, seed) in MODELS.items():
        folder = WEIGHTS / name
        model = make_model(folder, family, cls_name, config, seed, toks[family])
        out.update(expected_outputs(model, toks[family], family, name))
        size = sum(f.stat().st_size for f in folder.iterdir())
        print(f"{folder.relative_to(ROOT)}: {cls_name}, {size / 1024:.0f} KB")
    out.update(base_outputs(WEIGHTS / "tiny-bert-seqcls", toks["bert"]))
    out["meta/transformers_version"] = np.array(transformers.__version__)
    out["meta/models"] = np.array(json.dumps({k: v[1] for k, v in MODELS.items()}))
    EXPECTED.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(EXPECTED, **out)
    print(f"wrote {EXPECTED.relative_to(ROOT)} ({len(out)} arrays, "
          f"{EXPECTED.stat().st_size / 1024:.0f} KB, transformers {transformers.__version__})")
    if (MINILM / "model.safetensors").is_file():
        np.savez_compressed(MINILM_EXPECTED, **minilm_expected())
        print(f"wrote {MINILM_EXPECTED.relative_to(ROOT)} ({MINILM_EXPECTED.stat().st_size / 1024:.0f} KB)")
    else:
        print(f"skipped {MINILM_EXPECTED.relative_to(ROOT)}: run `python weights/fetch.py` first")


if __name__ == "__main__":
    main()
