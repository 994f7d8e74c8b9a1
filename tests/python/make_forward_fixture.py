"""Writes tests/fixtures/forward_tiny.pt: a tiny model's weights, an input with masked tokens,
and the outputs, attentions and hidden states PyTorch computes for them. tst_model loads it with
torch::pickle_load and checks Plateau's forward pass against it.

Run with Debian's PyTorch:  /usr/bin/python3 tests/python/make_forward_fixture.py
"""
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(__file__))
from reference_bert import Bert, sample_batch  # noqa: E402

torch.manual_seed(1234)
model = Bert(width=16, heads=2, layers=2, ffn=32, max_positions=16)
# Non-trivial LayerNorm and bias values so the test exercises them too.
with torch.no_grad():
    for name, p in model.named_parameters():
        if "LayerNorm" in name or name.endswith(".bias"):
            p.add_(0.1 * torch.randn_like(p))
tokens, target, mask = sample_batch(3, 3, 1, 0.3, torch.Generator().manual_seed(7))
tokens[0, 0] = 0           # at least one MASK
tokens[1, 4] = 1           # the value -10.00
tokens[2, 8] = 2001        # the value +10.00
with torch.no_grad():
    out, attn, hidden = model(tokens, return_attentions=True)
fixture = {
    "dims": {"width": 16, "heads": 2, "layers": 2, "ffn": 32, "max_positions": 16},
    "model": {k: v.detach().clone() for k, v in model.state_dict().items()},
    "tokens": tokens,
    "output": out,
    "attentions": torch.stack(attn),        # (L, B, H, T, T)
    "hidden_states": torch.stack(hidden),   # (L + 1, B, T, D)
}
path = os.path.join(os.path.dirname(__file__), "..", "fixtures", "forward_tiny.pt")
torch.save(fixture, path)
print("wrote", os.path.normpath(path))
