"""Resolving a model name: local folders, typos in them, and Hub ids that are not cached."""
import os
from pathlib import Path

import pytest

import minitf
from minitf.hub import resolve

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def offline(tmp_path, monkeypatch):
    """An empty Hugging Face cache, no network, and the repository as the current folder."""
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hub"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.chdir(ROOT)
    return tmp_path / "hub"


def test_a_local_folder_resolves_to_itself(offline):
    assert resolve("weights/tiny-gpt2") == Path("weights/tiny-gpt2")
    assert resolve(ROOT / "weights" / "tiny-gpt2") == ROOT / "weights" / "tiny-gpt2"


def test_a_typo_under_a_local_folder_names_the_missing_part_and_close_names(offline):
    with pytest.raises(OSError) as err:
        resolve("weights/tiny-gpt3")
    message = str(err.value)
    assert "'weights/tiny-gpt3' is not an existing folder" in message
    assert "'weights' has no 'tiny-gpt3'" in message
    assert "did you mean 'weights/tiny-gpt2'" in message
    assert "huggingface-cli" not in message and "Hub" not in message.split(";")[0]


def test_a_typo_deeper_in_an_absolute_path(offline):
    with pytest.raises(OSError, match=r"'.*weights' has no 'tiny-bert-nl'; did you mean "
                                      r"'.*weights/tiny-bert-nli'"):
        resolve(str(ROOT / "weights" / "tiny-bert-nl"))
    with pytest.raises(OSError, match=r"'weights/tiny-gpt2' has no 'extra'"):
        resolve("weights/tiny-gpt2/extra/folder")


def test_a_pipeline_with_a_typo_says_the_folder_does_not_exist(offline):
    with pytest.raises(OSError, match=r"'weights' has no 'tiny-gpt3'; did you mean 'weights/tiny-gpt2'"):
        minitf.pipeline("text-generation", model="weights/tiny-gpt3")


def test_a_file_is_not_a_model_folder(offline):
    with pytest.raises(OSError, match="is a file; pass the folder"):
        resolve("weights/tiny-gpt2/config.json")


def test_an_uncached_hub_id_offline_says_how_to_get_it(offline):
    with pytest.raises(OSError) as err:
        resolve("gpt2")
    message = str(err.value)
    assert "'gpt2' is not a local folder and is not in the Hugging Face cache" in message
    assert "HF_HUB_OFFLINE" in message and "huggingface-cli download gpt2" in message
    assert "minitf tour" not in message  # no task given: no offline model to name


@pytest.mark.parametrize("task,offline_folder", [
    ("text-generation", "weights/tiny-gpt2"), ("sentiment-analysis", "weights/tiny-distilbert-seqcls"),
    ("ner", "weights/tiny-bert-tokcls"), ("feature-extraction", "weights/real/all-MiniLM-L6-v2")])
def test_the_not_cached_error_names_the_tours_offline_model(offline, task, offline_folder):
    with pytest.raises(OSError, match=rf"`minitf tour` uses the offline checkpoint {offline_folder}"):
        resolve("someone/uncached-model", task=task)
    # the pipeline passes its task, so the same advice comes from pipeline(...)
    with pytest.raises(OSError, match=rf"pipeline\('{minitf.pipelines.normalize_task(task)}', "
                                      rf"model='{offline_folder}'\)"):
        minitf.pipeline(task, model="someone/uncached-model")


def test_the_offline_model_is_named_from_any_current_folder(offline, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(OSError) as err:
        resolve("gpt2", task="text-generation")
    assert str(ROOT / "weights" / "tiny-gpt2") in str(err.value)


def test_a_hub_id_whose_owner_is_also_a_local_folder_still_comes_from_the_cache(offline, tmp_path,
                                                                                monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "someone").mkdir()  # a local folder named like the Hub owner
    snap = offline / "models--someone--model" / "snapshots" / "abc"
    snap.mkdir(parents=True)
    (snap / "config.json").write_text("{}")
    assert resolve("someone/model") == snap
    with pytest.raises(OSError, match="'someone' has no 'other'"):
        resolve("someone/other")


def test_resolving_never_writes_the_environment_when_offline(offline):
    before = dict(os.environ)
    with pytest.raises(OSError):
        resolve("gpt2")
    assert dict(os.environ) == before
