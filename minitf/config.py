"""Model configurations: `config.json` read into an object with the Hugging Face field names.

    >>> cfg = GPT2Config(n_layer=2, n_embd=64, n_head=4)
    >>> cfg.hidden_size, cfg.num_hidden_layers       # transformers' generic aliases work too
    (64, 2)

Every key of `config.json` is kept as an attribute, known or not, so nothing a later model
needs is lost. Each model family declares its defaults (those of `transformers`) in a subclass.
"""
from __future__ import annotations

import copy
import json
import os
from pathlib import Path

from .hub import resolve


class PretrainedConfig:
    """Base class: `defaults` are the family's transformers defaults; `attribute_map` maps the
    generic names (hidden_size ...) to the family's own (n_embd ...)."""

    model_type: str = ""
    defaults: dict = {}
    attribute_map: dict = {}
    common_defaults = {
        "architectures": None, "bos_token_id": None, "eos_token_id": None, "pad_token_id": None,
        "decoder_start_token_id": None, "tie_word_embeddings": True, "is_encoder_decoder": False,
        "id2label": None, "label2id": None, "torch_dtype": None, "output_attentions": False,
        "output_hidden_states": False, "use_cache": True,
    }

    def __init__(self, **kwargs):
        values = {**self.common_defaults, **copy.deepcopy(self.defaults), **kwargs}
        for generic, own in self.attribute_map.items():  # accept hidden_size= for n_embd=
            if generic in kwargs and own not in kwargs:
                values[own] = values.pop(generic)
        values["model_type"] = self.model_type or values.get("model_type", "")
        num_labels = values.pop("num_labels", None)  # not stored: it is len(id2label)
        if values.get("id2label"):
            values["id2label"] = {int(k): v for k, v in values["id2label"].items()}
            values.setdefault("label2id", None)
            if not values["label2id"]:
                values["label2id"] = {v: k for k, v in values["id2label"].items()}
        self.__dict__.update(values)
        if num_labels is not None:  # `num_labels=5` as in transformers: LABEL_0 ... LABEL_4
            self.num_labels = num_labels

    def __getattr__(self, name):
        # Only called when normal lookup fails: try the alias table (hidden_size -> n_embd).
        own = type(self).attribute_map.get(name)
        if own is not None:
            return getattr(self, own)
        raise AttributeError(f"{type(self).__name__} has no attribute {name!r}")

    def __setattr__(self, name, value):
        if name == "num_labels":  # a property with a setter: let it run
            return object.__setattr__(self, name, value)
        name = type(self).attribute_map.get(name, name)
        self.__dict__[name] = value

    @property
    def num_labels(self) -> int:
        return len(self.id2label) if self.id2label else 2

    @num_labels.setter
    def num_labels(self, n: int) -> None:
        """A different number of labels replaces the label names by LABEL_0 ... LABEL_{n-1}."""
        if not self.__dict__.get("id2label") or len(self.id2label) != n:
            self.__dict__["id2label"] = {i: f"LABEL_{i}" for i in range(int(n))}
            self.__dict__["label2id"] = {f"LABEL_{i}": i for i in range(int(n))}

    def to_dict(self) -> dict:
        return {k: v for k, v in self.__dict__.items()}

    def __repr__(self):
        body = json.dumps(self.to_dict(), indent=2, sort_keys=True, default=str)
        return f"{type(self).__name__} {body}"

    def __eq__(self, other):
        return isinstance(other, PretrainedConfig) and self.to_dict() == other.to_dict()

    def save_pretrained(self, folder: str | os.PathLike) -> None:
        Path(folder).mkdir(parents=True, exist_ok=True)
        d = self.to_dict()
        if d.get("id2label"):
            d["id2label"] = {str(k): v for k, v in d["id2label"].items()}
        (Path(folder) / "config.json").write_text(json.dumps(d, indent=2, sort_keys=True) + "\n")

    @classmethod
    def from_pretrained(cls, name_or_path, **overrides) -> "PretrainedConfig":
        d = read_config_dict(name_or_path)
        if cls.model_type and d.get("model_type") not in (None, cls.model_type):
            raise ValueError(f"{name_or_path}: config.json has model_type {d.get('model_type')!r}, "
                             f"but {cls.__name__} is for {cls.model_type!r}")
        return cls(**{**d, **overrides})


def read_config_dict(name_or_path) -> dict:
    """Read `config.json` from a folder or Hub id, with errors that name the file."""
    folder = resolve(name_or_path)
    path = folder / "config.json"
    if not path.is_file():
        raise OSError(f"{folder} has no config.json (files there: "
                      f"{sorted(p.name for p in folder.iterdir())[:20]})")
    try:
        d = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as err:
        raise ValueError(f"{path} is not valid JSON: {err.msg} at line {err.lineno} "
                         f"column {err.colno}") from None
    if not isinstance(d, dict):
        raise ValueError(f"{path} must hold a JSON object, not {type(d).__name__}")
    return d


class GPT2Config(PretrainedConfig):
    """GPT-2's hyper-parameters; the defaults are those of the 124M `gpt2` checkpoint."""

    model_type = "gpt2"
    defaults = {
        "vocab_size": 50257, "n_positions": 1024, "n_embd": 768, "n_layer": 12, "n_head": 12,
        "n_inner": None, "activation_function": "gelu_new", "resid_pdrop": 0.1,
        "embd_pdrop": 0.1, "attn_pdrop": 0.1, "layer_norm_epsilon": 1e-5,
        "initializer_range": 0.02, "scale_attn_weights": True,
        "scale_attn_by_inverse_layer_idx": False, "reorder_and_upcast_attn": False,
        "bos_token_id": 50256, "eos_token_id": 50256,
    }
    attribute_map = {"hidden_size": "n_embd", "max_position_embeddings": "n_positions",
                     "num_attention_heads": "n_head", "num_hidden_layers": "n_layer"}


class BertConfig(PretrainedConfig):
    """BERT's hyper-parameters; the defaults are those of `bert-base-uncased`.

    The names are already the generic ones (hidden_size, num_hidden_layers ...), so there is
    no attribute map. `type_vocab_size` is the number of segments (sentence A / B).
    """

    model_type = "bert"
    defaults = {
        "vocab_size": 30522, "hidden_size": 768, "num_hidden_layers": 12, "num_attention_heads": 12,
        "intermediate_size": 3072, "hidden_act": "gelu", "hidden_dropout_prob": 0.1,
        "attention_probs_dropout_prob": 0.1, "max_position_embeddings": 512, "type_vocab_size": 2,
        "initializer_range": 0.02, "layer_norm_eps": 1e-12, "pad_token_id": 0,
        "position_embedding_type": "absolute", "classifier_dropout": None, "is_decoder": False,
        "add_cross_attention": False,
    }


class RobertaConfig(BertConfig):
    """RoBERTa = BERT's architecture with other defaults (those of transformers' RobertaConfig):
    a 50265-token byte-level BPE, <s>=0 <pad>=1 </s>=2. Real checkpoints (roberta-base) set
    max_position_embeddings=514 and type_vocab_size=1, because positions start at pad+1."""

    model_type = "roberta"
    defaults = {**BertConfig.defaults, "vocab_size": 50265, "pad_token_id": 1, "bos_token_id": 0,
                "eos_token_id": 2}


class DistilBertConfig(PretrainedConfig):
    """DistilBERT's hyper-parameters (defaults of `distilbert-base-uncased`): BERT-base halved in
    depth, with its own names (dim, n_layers, n_heads, hidden_dim, activation)."""

    model_type = "distilbert"
    defaults = {
        "vocab_size": 30522, "max_position_embeddings": 512, "sinusoidal_pos_embds": False,
        "n_layers": 6, "n_heads": 12, "dim": 768, "hidden_dim": 4 * 768, "dropout": 0.1,
        "attention_dropout": 0.1, "activation": "gelu", "initializer_range": 0.02,
        "qa_dropout": 0.1, "seq_classif_dropout": 0.2, "pad_token_id": 0,
    }
    attribute_map = {"hidden_size": "dim", "num_attention_heads": "n_heads",
                     "num_hidden_layers": "n_layers"}


class ReformerConfig(PretrainedConfig):
    """Reformer's hyper-parameters (transformers' ReformerConfig defaults; crime-and-punishment
    itself uses axial_pos_shape (512, 1024) for 524288 positions). `attn_layers` lists each
    layer's attention, "lsh" or "local"; `num_buckets` is an int, a factor pair [b1, b2], or None
    (chosen from the sequence length, as transformers does);
    `axial_pos_shape` (l1, l2) with l1*l2 = max_position_embeddings and `axial_pos_embds_dim`
    (d1, d2) with d1+d2 = hidden_size factorise the position table."""

    model_type = "reformer"
    defaults = {
        "vocab_size": 320, "attention_head_size": 64, "hidden_size": 256, "num_attention_heads": 12,
        "num_hashes": 1, "num_hidden_layers": 6, "num_buckets": None, "hash_seed": None,
        "lsh_attn_chunk_length": 64, "local_attn_chunk_length": 64, "lsh_num_chunks_after": 0,
        "lsh_num_chunks_before": 1, "local_num_chunks_after": 0, "local_num_chunks_before": 1,
        "hidden_act": "relu", "feed_forward_size": 512, "hidden_dropout_prob": 0.05,
        "lsh_attention_probs_dropout_prob": 0.0, "local_attention_probs_dropout_prob": 0.05,
        "max_position_embeddings": 4096, "initializer_range": 0.02, "layer_norm_eps": 1e-12,
        "axial_pos_embds": True, "axial_pos_shape": [64, 64], "axial_pos_embds_dim": [64, 192],
        "axial_norm_std": 1.0, "chunk_size_lm_head": 0,
        "attn_layers": ["local", "lsh", "local", "lsh", "local", "lsh"], "classifier_dropout": None,
        "is_decoder": False, "pad_token_id": 0, "eos_token_id": 2,
        "tie_word_embeddings": False,  # the LM head reads 2 x hidden: nothing to tie it to
    }


class LongformerConfig(RobertaConfig):
    """Longformer = RoBERTa with sliding-window + global attention. `attention_window` is one
    even int or a per-layer list; each token sees attention_window // 2 tokens on each side."""

    model_type = "longformer"
    defaults = {**RobertaConfig.defaults, "vocab_size": 30522, "attention_window": 512,
                "sep_token_id": 2}


class BartConfig(PretrainedConfig):
    """BART's hyper-parameters (transformers' BartConfig defaults, those of bart-large): an
    encoder and a decoder of `encoder_layers` / `decoder_layers` post-norm layers, d_model
    wide. <s>=0 <pad>=1 </s>=2; the decoder starts from </s> (decoder_start_token_id=2) and
    generation forces </s> at max_length (forced_eos_token_id=2). DistilBART checkpoints are
    BART with fewer decoder layers."""

    model_type = "bart"
    defaults = {
        "vocab_size": 50265, "max_position_embeddings": 1024, "d_model": 1024,
        "encoder_layers": 12, "encoder_ffn_dim": 4096, "encoder_attention_heads": 16,
        "decoder_layers": 12, "decoder_ffn_dim": 4096, "decoder_attention_heads": 16,
        "activation_function": "gelu", "dropout": 0.1, "attention_dropout": 0.0,
        "activation_dropout": 0.0, "classifier_dropout": 0.0, "init_std": 0.02,
        "encoder_layerdrop": 0.0, "decoder_layerdrop": 0.0, "scale_embedding": False,
        "pad_token_id": 1, "bos_token_id": 0, "eos_token_id": 2, "decoder_start_token_id": 2,
        "forced_eos_token_id": 2, "is_encoder_decoder": True,
    }
    attribute_map = {"hidden_size": "d_model", "num_attention_heads": "encoder_attention_heads",
                     "num_hidden_layers": "encoder_layers", "initializer_range": "init_std"}

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        # old BART configs spell "force BOS" this way (transformers 4.x reads it the same)
        if self.__dict__.get("forced_bos_token_id") is None and kwargs.get("force_bos_token_to_be_generated"):
            self.forced_bos_token_id = self.bos_token_id


class MarianConfig(BartConfig):
    """Marian (the Helsinki-NLP opus-mt translation models): BART's layers with static
    sinusoidal positions and no embedding layer norm. The decoder starts from <pad>, </s>=0;
    `share_encoder_decoder_embeddings=False` gives the decoder its own `decoder_vocab_size`."""

    model_type = "marian"
    defaults = {
        **BartConfig.defaults, "vocab_size": 58101, "decoder_vocab_size": None,
        "pad_token_id": 58100, "bos_token_id": None, "eos_token_id": 0,
        "decoder_start_token_id": 58100, "forced_eos_token_id": 0,
        "share_encoder_decoder_embeddings": True,
    }

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        if self.decoder_vocab_size is None:
            self.decoder_vocab_size = self.vocab_size


CONFIG_CLASSES: dict[str, type[PretrainedConfig]] = {
    "gpt2": GPT2Config, "bert": BertConfig, "distilbert": DistilBertConfig, "roberta": RobertaConfig,
    "reformer": ReformerConfig, "longformer": LongformerConfig, "bart": BartConfig,
    "marian": MarianConfig,
}


class AutoConfig:
    """Pick the config class from `model_type` in config.json.

    >>> AutoConfig.from_pretrained("weights/tiny-gpt2").model_type
    'gpt2'
    """

    @staticmethod
    def from_pretrained(name_or_path, **overrides) -> PretrainedConfig:
        d = read_config_dict(name_or_path)
        model_type = d.get("model_type")
        if model_type is None:
            raise ValueError(f"{resolve(name_or_path) / 'config.json'} has no 'model_type' key, so the "
                             f"model family is unknown")
        if model_type not in CONFIG_CLASSES:
            raise ValueError(f"{name_or_path}: model_type {model_type!r} is not supported by minitf "
                             f"(supported: {sorted(CONFIG_CLASSES)})")
        return CONFIG_CLASSES[model_type](**{**d, **overrides})

    @staticmethod
    def for_model(model_type: str, **kwargs) -> PretrainedConfig:
        if model_type not in CONFIG_CLASSES:
            raise ValueError(f"model_type {model_type!r} is not supported (supported: {sorted(CONFIG_CLASSES)})")
        return CONFIG_CLASSES[model_type](**kwargs)
