"""Reference decoder in plain PyTorch with the options and nanoGPT / minGPT parameter names of
Plateau's DecoderLM (core/model/decoder_lm.h), so a Plateau checkpoint's state dict loads with
load_state_dict(). Used to make tests/fixtures/decoder_*.pt and as the Python side of the GPT
speed comparison in bench/.

Options: positions learned | rotary (GPT-NeoX halves) | none; norm pre | post | none; mlp gelu |
gelu_tanh | relu | none; bias; tied_head; attention softmax | linear.
"""
import math

import torch
from torch import nn
import torch.nn.functional as F


class Attention(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        d = cfg["width"]
        self.cfg = cfg
        self.c_attn = nn.Linear(d, 3 * d, bias=cfg["bias"])
        self.c_proj = nn.Linear(d, d, bias=cfg["bias"])

    def forward(self, x, rotary):
        b, t, d = x.shape
        h = self.cfg["heads"]
        dh = d // h
        q, k, v = self.c_attn(x).split(d, dim=2)
        q = q.view(b, t, h, dh)
        k = k.view(b, t, h, dh)
        if rotary is not None:
            q, k = rotary(q), rotary(k)
        q, k = q.transpose(1, 2), k.transpose(1, 2)
        v = v.view(b, t, h, dh).transpose(1, 2)
        scores = q @ k.transpose(-2, -1) / math.sqrt(dh)
        causal = torch.ones(t, t, dtype=torch.bool).tril()
        if self.cfg["attention"] == "softmax":
            probs = torch.softmax(scores.masked_fill(~causal, float("-inf")), dim=-1)
        else:
            probs = scores.masked_fill(~causal, 0.0)
        y = (probs @ v).transpose(1, 2).reshape(b, t, d)
        return self.c_proj(y), probs


class Mlp(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.kind = cfg["mlp"]
        self.c_fc = nn.Linear(cfg["width"], cfg["ffn"], bias=cfg["bias"])
        self.c_proj = nn.Linear(cfg["ffn"], cfg["width"], bias=cfg["bias"])

    def forward(self, x):
        x = self.c_fc(x)
        if self.kind == "gelu":
            x = F.gelu(x)
        elif self.kind == "gelu_tanh":
            x = F.gelu(x, approximate="tanh")
        elif self.kind == "relu":
            x = F.relu(x)
        return self.c_proj(x)


class Block(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.norm = cfg["norm"]
        norms = self.norm != "none"
        mlp = cfg["mlp"] != "none"
        if norms:
            self.ln_1 = nn.LayerNorm(cfg["width"])
        self.attn = Attention(cfg)
        if mlp:
            if norms:
                self.ln_2 = nn.LayerNorm(cfg["width"])
            self.mlp = Mlp(cfg)
        self.has_mlp = mlp

    def forward(self, x, rotary):
        if self.norm == "pre":
            a, p = self.attn(self.ln_1(x), rotary)
            x = x + a
            if self.has_mlp:
                x = x + self.mlp(self.ln_2(x))
        elif self.norm == "post":
            a, p = self.attn(x, rotary)
            x = self.ln_1(x + a)
            if self.has_mlp:
                x = self.ln_2(x + self.mlp(x))
        else:
            a, p = self.attn(x, rotary)
            x = x + a
            if self.has_mlp:
                x = x + self.mlp(x)
        return x, p


class Rotary:
    def __init__(self, dh, positions, base=10000.0):
        half = dh // 2
        inv = base ** (-torch.arange(0, half, dtype=torch.float64) * 2.0 / dh)
        t = torch.arange(positions, dtype=torch.float64)[:, None]
        ang = torch.cat([t * inv, t * inv], dim=1)
        self.cos, self.sin = ang.cos().float(), ang.sin().float()

    def __call__(self, x):  # (B, T, H, dh)
        t, half = x.shape[1], x.shape[3] // 2
        cos = self.cos[:t].to(x.dtype)[None, :, None, :]
        sin = self.sin[:t].to(x.dtype)[None, :, None, :]
        rot = torch.cat([-x[..., half:], x[..., :half]], dim=-1)
        return x * cos + rot * sin


class Decoder(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.cfg = cfg
        d = cfg["width"]
        self.transformer = nn.ModuleDict(dict(wte=nn.Embedding(cfg["vocab"], d)))
        if cfg["positions"] == "learned":
            self.transformer["wpe"] = nn.Embedding(cfg["max_positions"], d)
        self.transformer["h"] = nn.ModuleList([Block(cfg) for _ in range(cfg["layers"])])
        if cfg["norm"] == "pre" and cfg.get("final_norm", True):
            self.transformer["ln_f"] = nn.LayerNorm(d)
        if not cfg["tied_head"]:
            self.lm_head = nn.Linear(d, cfg["vocab"], bias=False)
        self.rotary = Rotary(d // cfg["heads"], cfg["max_positions"]) if cfg["positions"] == "rotary" else None

    def forward(self, tokens):
        t = tokens.shape[1]
        x = self.transformer["wte"](tokens)
        if "wpe" in self.transformer:
            x = x + self.transformer["wpe"](torch.arange(t))
        hidden, probs = [x], []
        for block in self.transformer["h"]:
            x, p = block(x, self.rotary)
            hidden.append(x)
            probs.append(p)
        if "ln_f" in self.transformer:
            x = self.transformer["ln_f"](x)
        w = self.transformer["wte"].weight if self.cfg["tied_head"] else self.lm_head.weight
        return x @ w.t(), probs, hidden
