"""CLIP text encoder (transformers 4.25 CLIPTextModel names) and a CLIP BPE tokenizer."""
import gzip
import json
import re
from dataclasses import dataclass
from functools import lru_cache

import torch
import torch.nn as nn


@dataclass(frozen=True)
class CLIPTextConfig:
    vocab_size: int = 49408
    hidden_size: int = 768
    intermediate_size: int = 3072
    num_hidden_layers: int = 12
    num_attention_heads: int = 12
    max_position_embeddings: int = 77
    layer_norm_eps: float = 1e-5


class _Embeddings(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.token_embedding = nn.Embedding(cfg.vocab_size, cfg.hidden_size)
        self.position_embedding = nn.Embedding(cfg.max_position_embeddings, cfg.hidden_size)
        self.register_buffer("position_ids", torch.arange(cfg.max_position_embeddings).expand((1, -1)))


class _Attn(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        d = cfg.hidden_size
        self.heads = cfg.num_attention_heads
        self.q_proj, self.k_proj, self.v_proj, self.out_proj = (nn.Linear(d, d) for _ in range(4))

    def forward(self, x, mask):
        n, l, d = x.shape
        hd = d // self.heads
        q = self.q_proj(x).reshape(n, l, self.heads, hd).transpose(1, 2) * (hd ** -0.5)
        k = self.k_proj(x).reshape(n, l, self.heads, hd).permute(0, 2, 3, 1)
        v = self.v_proj(x).reshape(n, l, self.heads, hd).transpose(1, 2)
        a = torch.softmax(torch.matmul(q, k) + mask, dim=-1)
        return self.out_proj(torch.matmul(a, v).transpose(1, 2).reshape(n, l, d))


class _MLP(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.fc1 = nn.Linear(cfg.hidden_size, cfg.intermediate_size)
        self.fc2 = nn.Linear(cfg.intermediate_size, cfg.hidden_size)

    def forward(self, x):
        h = self.fc1(x)
        return self.fc2(h * torch.sigmoid(1.702 * h))  # quick_gelu


class _Layer(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.self_attn = _Attn(cfg)
        self.layer_norm1 = nn.LayerNorm(cfg.hidden_size, eps=cfg.layer_norm_eps)
        self.mlp = _MLP(cfg)
        self.layer_norm2 = nn.LayerNorm(cfg.hidden_size, eps=cfg.layer_norm_eps)

    def forward(self, x, mask):
        x = x + self.self_attn(self.layer_norm1(x), mask)
        return x + self.mlp(self.layer_norm2(x))


class _Encoder(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.layers = nn.ModuleList([_Layer(cfg) for _ in range(cfg.num_hidden_layers)])


class _TextTransformer(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.embeddings = _Embeddings(cfg)
        self.encoder = _Encoder(cfg)
        self.final_layer_norm = nn.LayerNorm(cfg.hidden_size, eps=cfg.layer_norm_eps)


class CLIPTextModel(nn.Module):
    """forward(input_ids int32/int64 (B, L)) -> last_hidden_state (B, L, D)."""

    def __init__(self, cfg: CLIPTextConfig):
        super().__init__()
        self.cfg = cfg
        self.text_model = _TextTransformer(cfg)

    def forward(self, input_ids):
        tm = self.text_model
        l = input_ids.shape[1]
        x = tm.embeddings.token_embedding(input_ids.long()) + tm.embeddings.position_embedding.weight[:l][None]
        mask = torch.full((l, l), torch.finfo(torch.float32).min, dtype=x.dtype).triu(1)
        for layer in tm.encoder.layers:
            x = layer(x, mask)
        return tm.final_layer_norm(x)


# ---------------------------------------------------------------- tokenizer
@lru_cache()
def bytes_to_unicode():
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, [chr(c) for c in cs]))


# CLIP's pattern uses \p{L} / \p{N}; with the stdlib `re` we use [^\W\d_] (letters) and \d.
_PAT = re.compile(r"<\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|[^\W\d_]+|\d|[^\s\w]+|_+", re.IGNORECASE)


class CLIPTokenizer:
    """CLIP BPE: lower-case, collapse whitespace, split with the pattern above, byte-level BPE with
    '</w>' end-of-word marks; ids = [bos] + tokens[:max_len-2] + [eos], padded with `pad` (eos)."""

    def __init__(self, vocab, merges, max_length=77, pad_token="<|endoftext|>"):
        self.encoder = vocab
        self.bpe_ranks = {tuple(m.split()): i for i, m in enumerate(merges)}
        self.byte_encoder = bytes_to_unicode()
        self.max_length = max_length
        self.bos = vocab["<|startoftext|>"]
        self.eos = vocab["<|endoftext|>"]
        self.pad = vocab[pad_token]

    @classmethod
    def from_files(cls, vocab_path, merges_path, max_length=77):
        with open(vocab_path, encoding="utf-8") as f:
            vocab = json.load(f)
        with open(merges_path, encoding="utf-8") as f:
            lines = f.read().split("\n")
        merges = [l for l in lines[1:] if l.strip()]  # first line is a "#version" header
        return cls(vocab, merges, max_length)

    def bpe(self, token):
        word = tuple(token[:-1]) + (token[-1] + "</w>",)
        while len(word) > 1:
            pairs = {(word[i], word[i + 1]) for i in range(len(word) - 1)}
            best = min(pairs, key=lambda p: self.bpe_ranks.get(p, float("inf")))
            if best not in self.bpe_ranks:
                break
            a, b = best
            new, i = [], 0
            while i < len(word):
                if i < len(word) - 1 and word[i] == a and word[i + 1] == b:
                    new.append(a + b)
                    i += 2
                else:
                    new.append(word[i])
                    i += 1
            word = tuple(new)
        return word

    def tokenize(self, text):
        text = re.sub(r"\s+", " ", text).strip().lower()
        ids = []
        for tok in _PAT.findall(text):
            tok = "".join(self.byte_encoder[b] for b in tok.encode("utf-8"))
            ids += [self.encoder[t] for t in self.bpe(tok)]
        return ids

    def __call__(self, text):
        ids = [self.bos] + self.tokenize(text)[: self.max_length - 2] + [self.eos]
        return ids + [self.pad] * (self.max_length - len(ids))


def tiny_vocab(words=("a", "cat", "dog", "the", "photo", "of", "runs", "walks", "blur", "haze", "cartoon")):
    """A small CLIP-format vocabulary: 256 byte symbols, 256 '</w>' symbols, merges that build
    the given words, and the two special tokens.  Returns (vocab dict, merges list)."""
    symbols = list(bytes_to_unicode().values())
    vocab_list = symbols + [s + "</w>" for s in symbols]
    merges = []
    for wd in words:
        parts = list(wd[:-1]) + [wd[-1] + "</w>"]
        while len(parts) > 1:
            m = (parts[0], parts[1])
            if " ".join(m) not in merges:
                merges.append(" ".join(m))
            merged = m[0] + m[1]
            if merged not in vocab_list:
                vocab_list.append(merged)
            parts = [merged] + parts[2:]
    vocab_list += ["<|startoftext|>", "<|endoftext|>"]
    return {t: i for i, t in enumerate(vocab_list)}, merges
