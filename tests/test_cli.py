"""The command-line tool: `minitf tour` and `minitf generate`."""
import subprocess
import sys
from pathlib import Path

import pytest

from minitf.cli import main

ROOT = Path(__file__).resolve().parents[1]
TINY = str(ROOT / "weights" / "tiny-gpt2")


def test_tour_offline_says_which_model_served(capsys, monkeypatch, tmp_path):
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path))  # no cached gpt2
    assert main(["tour", "--offline"]) == 0
    out = capsys.readouterr().out
    assert "== text-generation ==" in out
    assert "tiny-gpt2" in out and "no real GPT-2" in out
    assert "'generated_text': 'In this course, we will teach you how to" in out
    assert "tokens per second" in out


def test_tour_offline_understanding_tasks(capsys, monkeypatch, tmp_path):
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path))  # none of the course's models cached
    tasks = ["sentiment-analysis", "zero-shot-classification", "fill-mask", "ner", "question-answering"]
    assert main(["tour", "--offline", *tasks]) == 0
    out = capsys.readouterr().out
    for task in tasks:
        assert f"== {task} ==" in out
    assert out.count("no real fine-tuned") == 5 and "random weights" in out
    assert "tiny-distilbert-seqcls" in out and "tiny-bart-mnli" in out and "tiny-roberta-mlm" in out
    assert "{'label': " in out and "'labels': [" in out and "'token_str': " in out
    assert "'entity_group': " in out and "'answer': " in out
    assert "about <mask> models" in out                    # the model's own mask token


def test_tour_sentence_similarity_on_real_minilm(capsys, monkeypatch, tmp_path):
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path))
    if not (ROOT / "weights" / "real" / "all-MiniLM-L6-v2" / "model.safetensors").is_file():
        pytest.skip("the real all-MiniLM-L6-v2 is fetched by `make weights`")
    assert main(["tour", "--offline", "sentence-similarity"]) == 0   # alias of feature-extraction
    out = capsys.readouterr().out
    assert "== feature-extraction ==" in out and "all-MiniLM-L6-v2" in out
    assert "(1, 8, 384)" in out and "sentence similarity" in out


def test_generate_with_flags_and_stats(capsys):
    assert main(["generate", "The cat sat", "--model", TINY, "--max-new-tokens", "5",
                 "--do-sample", "--top-p", "0.9", "--temperature", "0.8", "--seed", "1",
                 "--repetition-penalty", "1.2", "--stats"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("The cat sat")
    assert "time to first token" in out and "KV cache peak" in out


def test_generate_beams_and_return_sequences(capsys):
    assert main(["generate", "The cat sat", "--model", TINY, "--max-new-tokens", "4",
                 "--num-beams", "3", "--num-return-sequences", "2"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[0].startswith("[0] The cat sat") and lines[1].startswith("[1] The cat sat")


@pytest.mark.parametrize("flags", [[], ["--do-sample", "--seed", "2", "--top-k", "0"]])
def test_stream_prints_the_generated_text_piece_by_piece(capsys, monkeypatch, flags):
    from minitf.generation.streamers import TextStreamer

    pieces = []
    print_piece = TextStreamer.on_text
    monkeypatch.setattr(TextStreamer, "on_text",
                        lambda self, text, stream_end=False: (pieces.append(text),
                                                              print_piece(self, text, stream_end)))
    argv = ["generate", "The cat sat", "--model", TINY, "--max-new-tokens", "12", *flags]
    assert main(argv) == 0
    plain = capsys.readouterr().out
    assert main(argv + ["--stream"]) == 0
    assert capsys.readouterr().out == plain  # the same text, prompt included, one newline
    assert len([p for p in pieces if p]) >= 2 and "".join(pieces) + "\n" == plain  # not in one go


def test_errors_are_reported_not_raised(capsys):
    assert main(["generate", "x", "--model", "./no/such/model"]) == 1
    assert "error:" in capsys.readouterr().err
    assert main(["generate", "x", "--model", TINY, "--num-beams", "2", "--num-return-sequences", "3"]) == 1
    assert "num_return_sequences (3) must be <= num_beams (2)" in capsys.readouterr().err
    assert main(["tour", "no-such-task"]) == 2


def test_python_dash_m_entry_point():
    r = subprocess.run([sys.executable, "-m", "minitf", "--help"], capture_output=True, text=True)
    assert r.returncode == 0 and "tour" in r.stdout and "generate" in r.stdout
