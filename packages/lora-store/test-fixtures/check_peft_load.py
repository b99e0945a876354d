"""Confirms that real PEFT loads adapters written by lora-store's writePeftAdapter (run by hand,
not by CI):
  node --conditions=source --import tsx packages/lora-store/test-fixtures/write_sample_adapter.ts /tmp/sample-adapters
  python3 packages/lora-store/test-fixtures/check_peft_load.py /tmp/sample-adapters
For each adapter: every LoRA A/B PEFT holds equals the file (no missing or unexpected keys), and
PEFT's per-module rank, alpha and scaling equal what lora-store resolved (expected.json).
"""
import json
import math
import os
import sys

import torch
from peft import PeftModel
from safetensors.torch import load_file
from transformers import LlamaForCausalLM

root = sys.argv[1]
base_dir = os.path.join(os.path.dirname(os.path.abspath(__file__)), "tiny-llama")
expected_all = json.load(open(os.path.join(root, "expected.json")))
for name, expected in expected_all.items():
    adapter_dir = os.path.join(root, name)
    model = PeftModel.from_pretrained(LlamaForCausalLM.from_pretrained(base_dir), adapter_dir).eval()
    saved = load_file(os.path.join(adapter_dir, "adapter_model.safetensors"))
    checked = 0
    for module_name, module in model.named_modules():
        if "default" not in getattr(module, "lora_A", {}):
            continue
        path = module_name.removeprefix("base_model.model.")
        assert torch.equal(module.lora_A["default"].weight.detach(), saved[f"base_model.model.{path}.lora_A.weight"]), path
        assert torch.equal(module.lora_B["default"].weight.detach(), saved[f"base_model.model.{path}.lora_B.weight"]), path
        want = expected[path]
        got = (module.r["default"], module.lora_alpha["default"], module.scaling["default"])
        assert got[0] == want["rank"] and got[1] == want["alpha"] and math.isclose(got[2], want["scaling"], rel_tol=1e-6), (path, got, want)
        checked += 1
    assert checked == len(expected) == len(saved) // 2, (checked, len(expected), len(saved))
    with torch.no_grad():
        logits = model(torch.tensor([[1, 5, 9, 3]])).logits
    assert torch.isfinite(logits).all()
    print(f"{name}: PEFT loaded {checked} LoRA modules; A/B identical; rank, alpha and scaling match lora-store for every module")
