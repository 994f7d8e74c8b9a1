"""Reference implementation of Plateau's model and task in plain PyTorch.

HF BertModel semantics (post-LN, exact GELU, LN eps 1e-12, no token-type embeddings, no
dropout) with the same parameter names as Plateau's checkpoints, so a Plateau state dict loads
with load_state_dict(). Used to make the forward fixture, to check checkpoints from Python, and
as the Python side of bench/train_speed.
"""
import math

import torch
from torch import nn

VOCAB = 2002
MASK = 0


class SelfAttention(nn.Module):
    def __init__(self, d, heads):
        super().__init__()
        self.heads = heads
        self.query = nn.Linear(d, d)
        self.key = nn.Linear(d, d)
        self.value = nn.Linear(d, d)

    def forward(self, h):
        b, t, d = h.shape
        dh = d // self.heads

        def split(x):
            return x.view(b, t, self.heads, dh).transpose(1, 2)

        q, k, v = split(self.query(h)), split(self.key(h)), split(self.value(h))
        scores = torch.matmul(q, k.transpose(-1, -2)) / math.sqrt(dh)
        probs = torch.softmax(scores, dim=-1)
        ctx = torch.matmul(probs, v).transpose(1, 2).reshape(b, t, d)
        return ctx, probs


class DenseNorm(nn.Module):
    def __init__(self, d_in, d):
        super().__init__()
        self.dense = nn.Linear(d_in, d)
        self.LayerNorm = nn.LayerNorm(d, eps=1e-12)


class Attention(nn.Module):
    def __init__(self, d, heads):
        super().__init__()
        self.self = SelfAttention(d, heads)
        self.output = DenseNorm(d, d)


class Intermediate(nn.Module):
    def __init__(self, d, ffn):
        super().__init__()
        self.dense = nn.Linear(d, ffn)


class Layer(nn.Module):
    def __init__(self, d, heads, ffn):
        super().__init__()
        self.attention = Attention(d, heads)
        self.intermediate = Intermediate(d, ffn)
        self.output = DenseNorm(ffn, d)

    def forward(self, h):
        ctx, probs = self.attention.self(h)
        h = self.attention.output.LayerNorm(h + self.attention.output.dense(ctx))
        f = self.output.dense(torch.nn.functional.gelu(self.intermediate.dense(h)))
        return self.output.LayerNorm(h + f), probs


class Embeddings(nn.Module):
    def __init__(self, d, max_positions):
        super().__init__()
        self.word_embeddings = nn.Embedding(VOCAB, d, padding_idx=MASK)
        self.position_embeddings = nn.Embedding(max_positions, d)
        self.LayerNorm = nn.LayerNorm(d, eps=1e-12)


class Encoder(nn.Module):
    def __init__(self, d, heads, ffn, layers):
        super().__init__()
        self.layer = nn.ModuleList([Layer(d, heads, ffn) for _ in range(layers)])


class Bert(nn.Module):
    def __init__(self, width=768, heads=8, layers=4, ffn=3072, max_positions=512):
        super().__init__()
        self.embeddings = Embeddings(width, max_positions)
        self.encoder = Encoder(width, heads, ffn, layers)
        self.read_out = nn.Linear(width, 1)
        self._hf_init()

    def _hf_init(self):
        for name, m in self.named_modules():
            if name == "read_out":
                continue  # PyTorch default Linear init, as in the paper's code
            if isinstance(m, nn.Linear):
                m.weight.data.normal_(0.0, 0.02)
                m.bias.data.zero_()
            elif isinstance(m, nn.Embedding):
                m.weight.data.normal_(0.0, 0.02)
                if m.padding_idx is not None:
                    m.weight.data[m.padding_idx].zero_()
            elif isinstance(m, nn.LayerNorm):
                m.weight.data.fill_(1.0)
                m.bias.data.zero_()

    def forward(self, tokens, return_attentions=False):
        t = tokens.shape[1]
        pos = torch.arange(t)
        h = self.embeddings.LayerNorm(self.embeddings.word_embeddings(tokens)
                                      + self.embeddings.position_embeddings(pos))
        attentions, hidden = [], [h]
        for layer in self.encoder.layer:
            h, probs = layer(h)
            attentions.append(probs)
            hidden.append(h)
        out = self.read_out(h).squeeze(-1)
        if return_attentions:
            return out, attentions, hidden
        return out


def sample_batch(batch, n, rank, p_mask, generator=None):
    """Matrix-completion batch: tokens (B, n*n), target (B, n*n), mask (B, n*n)."""
    u = torch.rand(batch, n, rank, generator=generator) * 2 - 1
    v = torch.rand(batch, n, rank, generator=generator) * 2 - 1
    x = torch.round(torch.bmm(u, v.transpose(1, 2)) * 100) / 100
    x = x.reshape(batch, n * n)
    mask = torch.rand(batch, n * n, generator=generator) < p_mask
    tokens = torch.round(x * 100).long() + 1001
    tokens[mask] = MASK
    return tokens, x, mask
