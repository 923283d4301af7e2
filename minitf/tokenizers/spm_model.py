"""SentencePiece model files (``.model``, Marian's ``source.spm`` / ``target.spm``), read by hand.

A SentencePiece model file is one protobuf message, ``ModelProto``, in protobuf's binary
*wire format*: a sequence of fields, each a **key** then a value. The key is a *varint*
(7 bits per byte, least significant group first, the top bit set on every byte but the last)
holding ``field_number << 3 | wire_type``; the wire type says how the value is stored:
0 = a varint, 1 = 8 bytes, 2 = a varint length then that many bytes (strings, bytes and nested
messages), 5 = 4 bytes (a float). Fields may come in any order, unknown ones are skipped, a
repeated field simply occurs several times, and a nested message that occurs twice is merged.

The fields minitf reads (numbers from sentencepiece_model.proto)::

    ModelProto      1 pieces (repeated SentencePiece)  2 trainer_spec  3 normalizer_spec
    SentencePiece   1 piece (string)  2 score (float)  3 type (NORMAL=1 UNKNOWN=2 CONTROL=3
                    USER_DEFINED=4 UNUSED=5 BYTE=6)
    TrainerSpec     3 model_type (UNIGRAM=1 BPE=2 WORD=3 CHAR=4)  24 treat_whitespace_as_suffix
                    35 byte_fallback  40-43 unk/bos/eos/pad ids  44 unk_surface
                    45-48 unk/bos/eos/pad pieces
    NormalizerSpec  1 name  2 precompiled_charsmap (bytes)  3 add_dummy_prefix
                    4 remove_extra_whitespaces  5 escape_whitespaces

    >>> model = read_spm_model("weights/tiny-marian-tokenizer/source.spm")
    >>> model.pieces[:4]
    [Piece(piece='<unk>', score=0.0, type=2), Piece(piece='<s>', score=0.0, type=3), \
Piece(piece='</s>', score=0.0, type=3), Piece(piece='▁', score=-2.419..., type=1)]
    >>> model.trainer_spec.model_type, model.normalizer_spec.name, model.normalizer_spec.add_dummy_prefix
    (1, 'nmt_nfkc', True)

`SentencePieceProcessor` puts it together as the sentencepiece package's class of that name
does: normalize (``normalizer.py``), segment (``unigram.py``), and decode:

    >>> sp = SentencePieceProcessor.load("weights/tiny-marian-tokenizer/source.spm")
    >>> sp.encode_as_pieces("Hello  ＷＯＲＬＤ!")
    ['▁He', 'll', 'o', '▁', 'W', 'O', 'R', 'L', 'D', '!']
    >>> sp.decode_pieces(['▁He', 'll', 'o', '▁', 'W', 'O', 'R', 'L', 'D', '!'])
    'Hello WORLD!'
"""
from __future__ import annotations

import os
import struct
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator, Sequence

from minitf.tokenizers.normalizer import SPACE_SYMBOL, Normalizer
from minitf.tokenizers.unigram import (
    BYTE, CONTROL, NORMAL, UNKNOWN, UNUSED, USER_DEFINED, Unigram, piece_byte,
)

MODEL_TYPES = {1: "UNIGRAM", 2: "BPE", 3: "WORD", 4: "CHAR"}
PIECE_TYPES = {NORMAL: "NORMAL", UNKNOWN: "UNKNOWN", CONTROL: "CONTROL",
               USER_DEFINED: "USER_DEFINED", UNUSED: "UNUSED", BYTE: "BYTE"}


# ----------------------------------------------------------------------------------------------
# 1. The protobuf wire format
# ----------------------------------------------------------------------------------------------
class WireFormatError(ValueError):
    """The bytes are not a well-formed protobuf message."""


def read_varint(data: bytes, pos: int) -> tuple[int, int]:
    """(value, position after it) of the varint at `pos`.

    >>> read_varint(bytes([0x96, 0x01]), 0)       # 0x16 + (0x01 << 7) = 150
    (150, 2)
    """
    value = shift = 0
    while True:
        if pos >= len(data):
            raise WireFormatError(f"truncated varint at byte {pos}")
        byte = data[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        if byte < 0x80:
            return value, pos
        shift += 7
        if shift >= 70:
            raise WireFormatError(f"varint longer than 10 bytes at byte {pos}")


def read_fields(data: bytes) -> Iterator[tuple[int, int, Any]]:
    """(field number, wire type, value) of every field of one message: an int for a varint,
    bytes for the others.

    >>> list(read_fields(bytes([0x08, 0x96, 0x01, 0x12, 0x02, 0x68, 0x69])))
    [(1, 0, 150), (2, 2, b'hi')]
    """
    pos = 0
    while pos < len(data):
        key, pos = read_varint(data, pos)
        number, wire_type = key >> 3, key & 7
        if number == 0:
            raise WireFormatError(f"field number 0 at byte {pos}")
        if wire_type == 0:
            value, pos = read_varint(data, pos)
        elif wire_type == 2:
            length, pos = read_varint(data, pos)
            if pos + length > len(data):
                raise WireFormatError(f"field {number} wants {length} bytes at byte {pos}, "
                                      f"only {len(data) - pos} left (truncated file?)")
            value, pos = data[pos:pos + length], pos + length
        elif wire_type in (1, 5):
            size = 8 if wire_type == 1 else 4
            if pos + size > len(data):
                raise WireFormatError(f"truncated {size}-byte field {number} at byte {pos}")
            value, pos = data[pos:pos + size], pos + size
        else:
            raise WireFormatError(f"wire type {wire_type} (field {number}) at byte {pos}: "
                                  f"not a protobuf message this reader knows")
        yield number, wire_type, value


def _int32(value: int) -> int:
    """A varint as a signed int32/int64 (-1 is stored as 2**64 - 1)."""
    return value - (1 << 64) if value >= 1 << 63 else value


def _float(raw: bytes) -> float:
    return struct.unpack("<f", raw)[0]


def _string(raw: bytes, what: str) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise WireFormatError(f"{what} is not valid UTF-8") from None


# ----------------------------------------------------------------------------------------------
# 2. ModelProto
# ----------------------------------------------------------------------------------------------
@dataclass
class Piece:
    piece: str
    score: float = 0.0
    type: int = NORMAL


@dataclass
class TrainerSpec:
    """The TrainerSpec fields that encoding and decoding need (proto defaults)."""
    model_type: int = 1
    vocab_size: int = 8000
    treat_whitespace_as_suffix: bool = False
    byte_fallback: bool = False
    unk_id: int = 0
    bos_id: int = 1
    eos_id: int = 2
    pad_id: int = -1
    unk_surface: str = " \u2047 "
    unk_piece: str = "<unk>"
    bos_piece: str = "<s>"
    eos_piece: str = "</s>"
    pad_piece: str = "<pad>"


@dataclass
class NormalizerSpec:
    name: str = ""
    precompiled_charsmap: bytes = b""
    add_dummy_prefix: bool = True
    remove_extra_whitespaces: bool = True
    escape_whitespaces: bool = True


@dataclass
class ModelProto:
    pieces: list[Piece] = field(default_factory=list)
    trainer_spec: TrainerSpec = field(default_factory=TrainerSpec)
    normalizer_spec: NormalizerSpec = field(default_factory=NormalizerSpec)
    serialized: bytes = field(default=b"", repr=False)    # the file's bytes, to save it again
    has_trainer_spec: bool = field(default=False, repr=False)


# field number -> (attribute, kind); kind: "int" / "bool" / "str" / "bytes" / "float"
_TRAINER_FIELDS = {3: ("model_type", "int"), 4: ("vocab_size", "int"),
                   24: ("treat_whitespace_as_suffix", "bool"), 35: ("byte_fallback", "bool"),
                   40: ("unk_id", "int"), 41: ("bos_id", "int"), 42: ("eos_id", "int"),
                   43: ("pad_id", "int"), 44: ("unk_surface", "str"), 45: ("unk_piece", "str"),
                   46: ("bos_piece", "str"), 47: ("eos_piece", "str"), 48: ("pad_piece", "str")}
_NORMALIZER_FIELDS = {1: ("name", "str"), 2: ("precompiled_charsmap", "bytes"),
                      3: ("add_dummy_prefix", "bool"), 4: ("remove_extra_whitespaces", "bool"),
                      5: ("escape_whitespaces", "bool")}
_PIECE_FIELDS = {1: ("piece", "str"), 2: ("score", "float"), 3: ("type", "int")}
_WIRE_TYPE = {"int": 0, "bool": 0, "str": 2, "bytes": 2, "float": 5}


def _parse_message(data: bytes, target: Any, table: dict[int, tuple[str, str]], what: str) -> Any:
    """Set the attributes of `target` from the fields of `data` listed in `table`."""
    for number, wire_type, value in read_fields(data):
        if number not in table:
            continue                                   # a field minitf does not need
        name, kind = table[number]
        if wire_type != _WIRE_TYPE[kind]:
            raise WireFormatError(f"{what}.{name} (field {number}) has wire type {wire_type}, "
                                  f"expected {_WIRE_TYPE[kind]}")
        if kind == "int":
            value = _int32(value)
        elif kind == "bool":
            value = bool(value)
        elif kind == "str":
            value = _string(value, f"{what}.{name}")
        elif kind == "float":
            value = _float(value)
        setattr(target, name, value)
    return target


def parse_model_proto(data: bytes) -> ModelProto:
    """A ModelProto from its serialized bytes."""
    model = ModelProto(serialized=bytes(data))
    trainer, normalizer = b"", b""
    for number, wire_type, value in read_fields(data):
        if number in (1, 2, 3) and wire_type != 2:
            raise WireFormatError(f"ModelProto field {number} has wire type {wire_type}, expected 2")
        if number == 1:
            piece = _parse_message(value, Piece(""), _PIECE_FIELDS, f"pieces[{len(model.pieces)}]")
            if piece.type not in PIECE_TYPES:
                raise WireFormatError(f"pieces[{len(model.pieces)}] ({piece.piece!r}) has unknown "
                                      f"type {piece.type}")
            model.pieces.append(piece)
        elif number == 2:
            model.has_trainer_spec = True
            trainer += value           # a message that occurs twice is merged: parse both
        elif number == 3:
            normalizer += value
    _parse_message(trainer, model.trainer_spec, _TRAINER_FIELDS, "trainer_spec")
    _parse_message(normalizer, model.normalizer_spec, _NORMALIZER_FIELDS, "normalizer_spec")
    return model


def read_spm_model(path: str | os.PathLike) -> ModelProto:
    """Read and check a SentencePiece model file; errors name the file."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"SentencePiece model {path} does not exist")
    data = path.read_bytes()
    try:
        model = parse_model_proto(data)
    except WireFormatError as err:
        raise ValueError(f"{path}: not a SentencePiece model file ({err})") from None
    if not model.pieces:
        raise ValueError(f"{path}: not a SentencePiece model file (it holds no pieces; "
                         f"{len(data)} bytes)")
    if not model.has_trainer_spec:     # it comes after the pieces: the end of the file is missing
        raise ValueError(f"{path}: not a SentencePiece model file (no trainer_spec after its "
                         f"{len(model.pieces)} pieces: truncated?)")
    unknown = [i for i, p in enumerate(model.pieces) if p.type == UNKNOWN]
    if len(unknown) != 1:
        raise ValueError(f"{path}: a SentencePiece model needs exactly one UNKNOWN piece, "
                         f"found {len(unknown)}")
    seen: dict[str, int] = {}
    for i, p in enumerate(model.pieces):
        if p.piece in seen:
            raise ValueError(f"{path}: piece {p.piece!r} is defined twice (ids {seen[p.piece]} and {i})")
        seen[p.piece] = i
        if p.type == BYTE and not model.trainer_spec.byte_fallback:
            raise ValueError(f"{path}: byte piece {p.piece!r} (id {i}) but byte_fallback is off")
    return model


# ----------------------------------------------------------------------------------------------
# 3. The processor: normalize, segment, decode
# ----------------------------------------------------------------------------------------------
class SentencePieceProcessor:
    """Encode and decode with a SentencePiece Unigram model, as the sentencepiece package does
    (same pieces, same ids; ``encode`` also gives each piece's span in the input text)."""

    def __init__(self, model: ModelProto, source: str = "SentencePiece model"):
        kind = model.trainer_spec.model_type
        if kind != 1:
            raise ValueError(f"{source}: a {MODEL_TYPES.get(kind, kind)} SentencePiece model; "
                             f"minitf reads Unigram models only (trainer_spec.model_type = UNIGRAM)")
        if model.trainer_spec.treat_whitespace_as_suffix:
            raise ValueError(f"{source}: treat_whitespace_as_suffix models are not supported by minitf")
        self.model_proto = model
        self.source = source
        spec = model.normalizer_spec
        self.pieces = [p.piece for p in model.pieces]
        self.types = [p.type for p in model.pieces]
        self.piece_to_id = {p: i for i, p in enumerate(self.pieces)}
        self.unk_id = self.types.index(UNKNOWN)
        self.normalizer = Normalizer(
            spec.precompiled_charsmap, add_dummy_prefix=spec.add_dummy_prefix,
            remove_extra_whitespaces=spec.remove_extra_whitespaces,
            escape_whitespaces=spec.escape_whitespaces,
            user_defined_symbols=[p for p, t in zip(self.pieces, self.types) if t == USER_DEFINED],
            source=f"{source}: precompiled_charsmap")
        self.unigram = Unigram([(p.piece, p.score) for p in model.pieces], self.unk_id,
                               types=self.types, byte_fallback=model.trainer_spec.byte_fallback,
                               float32=True)

    @classmethod
    def load(cls, path: str | os.PathLike) -> "SentencePieceProcessor":
        return cls(read_spm_model(path), source=str(path))

    def __len__(self) -> int:
        return len(self.pieces)

    def id_of(self, piece: str) -> int:
        """The id of a piece string; the unknown id for a string that is no piece."""
        return self.piece_to_id.get(piece, self.unk_id)

    # ---- encoding --------------------------------------------------------------------------
    def encode(self, text: str) -> list[tuple[str, int, int, int]]:
        """``[(piece, id, start, end), ...]``: start:end is the piece's span in `text`."""
        normalized, origin = self.normalizer.normalize(text)
        out = []
        for piece, piece_id, s, e in self.unigram.encode(normalized):
            out.append((piece, piece_id, origin[s], origin[e - 1] + 1))
        return out

    def encode_as_pieces(self, text: str) -> list[str]:
        return [p for p, _, _, _ in self.encode(text)]

    def encode_as_ids(self, text: str) -> list[int]:
        return [i for _, i, _, _ in self.encode(text)]

    # ---- decoding --------------------------------------------------------------------------
    def decode_pieces(self, pieces: Sequence[str]) -> str:
        """Pieces back to text: ``▁`` -> space, the leading space(s) of the text dropped,
        control pieces invisible, ``<unk>`` -> `unk_surface` (" ⁇ "), a string that is no
        piece kept as it is, runs of byte pieces -> their UTF-8 text (U+FFFD where invalid)."""
        spec = self.model_proto.normalizer_spec
        strip_leading = spec.add_dummy_prefix or spec.remove_extra_whitespaces
        text = ""
        run = bytearray()
        at_start, consumed = True, False    # may the next piece lose its "▁"? / did one just?
        for piece in pieces:
            piece_id = self.id_of(piece)
            kind = self.types[piece_id]
            if kind == BYTE:
                run.append(piece_byte(piece))
                continue
            if run:
                text += run.decode("utf-8", "replace")
                run = bytearray()
            if consumed or text:
                at_start = False
            consumed = False
            if kind == CONTROL:
                continue
            if kind == UNKNOWN:
                text += self.model_proto.trainer_spec.unk_surface if piece == self.pieces[piece_id] else piece
                continue
            if at_start and strip_leading and piece.startswith(SPACE_SYMBOL):
                piece = piece[1:]
                # without remove_extra_whitespaces only the first "▁" of the text goes
                consumed = not spec.remove_extra_whitespaces
            text += piece.replace(SPACE_SYMBOL, " ")
        if run:
            text += run.decode("utf-8", "replace")
        return text

    def decode_ids(self, ids: Sequence[int]) -> str:
        for i in ids:
            if not 0 <= i < len(self.pieces):
                raise ValueError(f"{self.source}: id {i} is out of range (0..{len(self.pieces) - 1})")
        return self.decode_pieces([self.pieces[i] for i in ids])
