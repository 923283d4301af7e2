"""The pipeline's pre-processor: a tokenizer, image processor or feature extractor, found in
the model's folder (minitf/pipelines/preprocessing.py)."""
import json
import shutil
from pathlib import Path

import numpy as np
import pytest

import minitf
from minitf.pipelines import Pipeline
from minitf.pipelines import preprocessing as pp

ROOT = Path(__file__).resolve().parents[1]
TINY_BERT = ROOT / "weights" / "tiny-bert"


class ToyImageProcessor:
    """An image processor as a later issue would register one."""

    def __init__(self, folder):
        self.folder = folder

    @classmethod
    def from_pretrained(cls, folder):
        return cls(folder)

    def __call__(self, images, return_tensors="np"):
        return {"pixel_values": np.zeros((len(images), 3, 4, 4), np.float32)}


@pytest.fixture
def toy_registered(monkeypatch):
    """ToyImageProcessor under two names, removed again after the test."""
    monkeypatch.setattr(pp, "PREPROCESSORS", dict(pp.PREPROCESSORS))
    pp.register_preprocessor("image_processor", "ToyImageProcessor", "ToyFeatureExtractor")(ToyImageProcessor)
    return ToyImageProcessor


def image_folder(tmp_path, name="vit", **preprocessor_config) -> Path:
    folder = tmp_path / name
    folder.mkdir()
    shutil.copy(TINY_BERT / "config.json", folder / "config.json")
    (folder / "preprocessor_config.json").write_text(json.dumps(preprocessor_config))
    return folder


def test_a_folder_with_tokenizer_files_gives_a_tokenizer():
    tok = pp.load_preprocessor(TINY_BERT)
    assert isinstance(tok, minitf.tokenizers.PreTrainedTokenizer)
    assert pp.preprocessor_kind(tok) == "tokenizer"


def test_preprocessor_config_picks_a_registered_class(tmp_path, toy_registered):
    folder = image_folder(tmp_path, image_processor_type="ToyImageProcessor", size=224)
    proc = pp.load_preprocessor(folder, kinds=("image_processor",))
    assert isinstance(proc, ToyImageProcessor) and proc.folder == folder
    assert pp.preprocessor_kind(proc) == "image_processor"
    # an old checkpoint names the class by its older feature-extractor name
    old = image_folder(tmp_path, "old-vit", feature_extractor_type="ToyFeatureExtractor")
    assert isinstance(pp.load_preprocessor(old, kinds=("image_processor",)), ToyImageProcessor)


@pytest.mark.filterwarnings("ignore:Some weights of BertModel")  # tiny-bert has no pooler
def test_a_pipeline_holds_a_non_tokenizer_preprocessor(tmp_path, toy_registered):
    folder = image_folder(tmp_path, image_processor_type="ToyImageProcessor")
    model = minitf.AutoModel.from_pretrained(TINY_BERT)

    class ImagePipeline(Pipeline):
        task = "image-toy"
        model_loader = minitf.AutoModel
        preprocessor_kinds = ("image_processor",)

    model.name_or_path = str(folder)  # the model's folder holds the preprocessor config
    pipe = ImagePipeline.from_model(model)
    assert isinstance(pipe.preprocessor, ToyImageProcessor)
    assert pipe.tokenizer is None  # not a tokenizer: image tasks have none
    given = ImagePipeline.from_model(model, image_processor=ToyImageProcessor("x"))
    assert given.preprocessor.folder == "x"


def test_an_unregistered_class_is_a_clear_error(tmp_path):
    folder = image_folder(tmp_path, image_processor_type="SwinImageProcessor")
    with pytest.raises(ValueError, match=r"names \['SwinImageProcessor'\].*no pre-processor "
                                         r"registered under that name"):
        pp.load_preprocessor(folder, kinds=("image_processor", "feature_extractor"))


def test_a_text_pipeline_on_an_image_folder_says_what_it_found(tmp_path, toy_registered):
    folder = image_folder(tmp_path, image_processor_type="ToyImageProcessor")
    with pytest.raises(ValueError, match=r"has an image processor \(ToyImageProcessor\), but this "
                                         r"pipeline needs a tokenizer; pass tokenizer="):
        pp.load_preprocessor(folder, kinds=("tokenizer",), task="fill-mask")


def test_a_folder_without_any_preprocessor(tmp_path):
    shutil.copy(TINY_BERT / "config.json", tmp_path / "config.json")
    with pytest.raises(OSError, match=r"text-classification: .* has no pre-processor this pipeline "
                                      r"can use: looked for tokenizer files .*found: \['config.json'\]"):
        pp.load_preprocessor(tmp_path, kinds=("tokenizer",), task="text-classification")


def test_bad_registrations_are_refused():
    with pytest.raises(ValueError, match="kind must be one of"):
        pp.register_preprocessor("tokenizer", "X")
    with pytest.raises(ValueError, match="give the class name"):
        pp.register_preprocessor("image_processor")
    with pytest.raises(TypeError, match="needs a from_pretrained"):
        pp.register_preprocessor("image_processor", "NoLoader")(type("NoLoader", (), {}))
    with pytest.raises(ValueError, match="unknown preprocessor kind"):
        pp.load_preprocessor(TINY_BERT, kinds=("tokeniser",))


def test_pipeline_argument_errors():
    model = minitf.AutoModelForMaskedLM.from_pretrained(ROOT / "weights" / "tiny-distilbert-mlm")
    del model.name_or_path
    with pytest.raises(ValueError, match="pass tokenizer= when model is an already-loaded model"):
        minitf.pipeline("fill-mask", model=model)
    tok = minitf.AutoTokenizer.from_pretrained(ROOT / "weights" / "tiny-distilbert-mlm")
    with pytest.raises(ValueError, match="takes one pre-processor; got tokenizer= and image_processor="):
        minitf.pipeline("fill-mask", model=model, tokenizer=tok, image_processor=object())
    # a tokenizer given as a folder is loaded from it
    pipe = minitf.pipeline("fill-mask", model=model, tokenizer=str(ROOT / "weights" / "tiny-distilbert-mlm"))
    assert pipe.tokenizer.mask_token == "[MASK]"
