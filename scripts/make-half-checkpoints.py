#!/usr/bin/env python3
"""Writes the bf16 and f16 PyTorch checkpoints the loader tests read.

torch.save of the golden 1stage-packed state dict with every tensor cast by .bfloat16() and
.half() (round to nearest even): the files an official checkpoint saved in half precision is
like. Needs PyTorch; run from the repository root:

    python3 scripts/make-half-checkpoints.py
"""
import os
import shutil

import torch

SRC = "hnet-core/src/test/resources/golden/1stage-packed"
OUT = "hnet-core/src/test/resources/checkpoints"

sd = torch.load(os.path.join(SRC, "model.pt"), map_location="cpu", weights_only=True)
for name, cast in (("bf16", torch.Tensor.bfloat16), ("f16", torch.Tensor.half)):
    d = os.path.join(OUT, "1stage-packed-" + name)
    os.makedirs(d, exist_ok=True)
    torch.save({k: cast(v) for k, v in sd.items()}, os.path.join(d, "model.pt"))
    shutil.copy(os.path.join(SRC, "config.json"), os.path.join(d, "config.json"))
    print("wrote", d)
