"""Writes tests/fixtures/decoder_<variant>.pt: for every option combination Plateau's decoder
presets use, a small model's weights (LayerNorm and bias values perturbed so they matter), a token
batch, and the logits, attentions and hidden states PyTorch computes. tst_decoder loads each with
torch::pickle_load and checks DecoderLM against it (fast and plain paths).

Run with Debian's PyTorch:  /usr/bin/python3 tests/python/make_decoder_fixtures.py
"""
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(__file__))
from reference_decoder import Decoder  # noqa: E402

BASE = dict(vocab=23, max_positions=11, width=16, heads=2, layers=2, ffn=32, positions="learned", norm="pre",
            final_norm=True, mlp="gelu_tanh", bias=True, tied_head=False, attention="softmax")
VARIANTS = {
    # gpt_matrix_completion (the paper's GPT: minGPT)
    "gpt": dict(),
    # associative_recall's presets: attention-only, no biases
    "attention_only": dict(mlp="none", bias=False),
    # in-context modular arithmetic: rotary, ReLU, no biases, tied head
    "rotary_relu_tied": dict(positions="rotary", mlp="relu", bias=False, tied_head=True),
    # a linear transformer: no positions, no norms, linear attention, attention-only
    "linear": dict(positions="none", norm="none", mlp="none", attention="linear", bias=False),
    # post-LN with exact GELU (BERT-like blocks, causal)
    "post_gelu": dict(norm="post", mlp="gelu"),
}

out_dir = os.path.join(os.path.dirname(__file__), "..", "fixtures")
for name, changes in VARIANTS.items():
    cfg = dict(BASE, **changes)
    torch.manual_seed(1234)
    model = Decoder(cfg)
    with torch.no_grad():
        for pname, p in model.named_parameters():
            if "ln_" in pname or pname.endswith(".bias"):
                p.add_(0.1 * torch.randn_like(p))
            elif p.dim() == 2:
                p.mul_(2.0)  # larger weights: sharper attention, a harder comparison
    tokens = torch.randint(0, cfg["vocab"], (3, 9), generator=torch.Generator().manual_seed(7))
    with torch.no_grad():
        logits, probs, hidden = model(tokens)
    fixture = {
        "dims": {k: (v if not isinstance(v, bool) else int(v)) for k, v in cfg.items() if not isinstance(v, str)},
        "options": {k: v for k, v in cfg.items() if isinstance(v, str)},
        "model": {k: v.detach().clone() for k, v in model.state_dict().items()},
        "tokens": tokens,
        "logits": logits,
        "attentions": torch.stack(probs),      # (L, B, H, T, T)
        "hidden_states": torch.stack(hidden),  # (L + 1, B, T, D)
    }
    path = os.path.join(out_dir, f"decoder_{name}.pt")
    torch.save(fixture, path)
    print("wrote", os.path.normpath(path))
