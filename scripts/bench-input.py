#!/usr/bin/env python3
"""Writes inputs for `hnet bench --input` from the shipped corpus, as the bench builds its default
ones (train 4x1024, prefill 1x1024, from byte 10,000 of Moby Dick), with a shorter decode:
PROMPT bytes of prompt then DECODE bytes decoded, at batch 1 and batch 8.

    python3 scripts/bench-input.py OUT.safetensors [PROMPT [DECODE]]    # default 64 64
"""
import gzip, json, struct, sys
from pathlib import Path

out = sys.argv[1]
prompt = int(sys.argv[2]) if len(sys.argv) > 2 else 64
decode = int(sys.argv[3]) if len(sys.argv) > 3 else 64
corpus = Path(__file__).resolve().parent.parent / "hnet-cli/src/main/resources/org/hnet/cli/moby-dick.txt.gz"
text = gzip.open(corpus).read()
off, n = 10_000, prompt + decode
tensors = {}
for name, rows, cols in [("train_ids", 4, 1024), ("prefill_ids", 1, 1024),
                         ("decode_ids", 1, n), ("decode_batch8_ids", 8, n)]:
    tensors[name] = ([rows, cols], text[off:off + rows * cols])
    off += rows * cols
header, data = {}, b""
for name, (shape, raw) in tensors.items():
    b = b"".join(struct.pack("<q", x) for x in raw)
    header[name] = {"dtype": "I64", "shape": shape, "data_offsets": [len(data), len(data) + len(b)]}
    data += b
p = struct.pack("<q", prompt)
header["prompt_len"] = {"dtype": "I64", "shape": [1], "data_offsets": [len(data), len(data) + 8]}
data += p
h = json.dumps(header).encode()
h += b" " * (-len(h) % 8)
Path(out).write_bytes(struct.pack("<Q", len(h)) + h + data)
