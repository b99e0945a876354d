"""Confirms that real PEFT loads an adapter written by lora-store's writePeftAdapter (not a test
run by CI; run by hand):
  node --conditions=source --import tsx packages/lora-store/test-fixtures/write_sample_adapter.ts /tmp/sample-adapter
  python3 packages/lora-store/test-fixtures/check_peft_load.py /tmp/sample-adapter
Checks every LoRA A/B PEFT holds equals the file, and that PEFT's per-module rank and scaling
equal the ones lora-store resolved (stored as alpha/rank in the config: recomputed here).
"""
import math
import os
import sys

import torch
from peft import PeftModel
from safetensors.torch import load_file
from transformers import LlamaForCausalLM

adapter_dir = sys.argv[1]
base_dir = os.path.join(os.path.dirname(os.path.abspath(__file__)), "tiny-llama")
base = LlamaForCausalLM.from_pretrained(base_dir)
model = PeftModel.from_pretrained(base, adapter_dir).eval()
saved = load_file(os.path.join(adapter_dir, "adapter_model.safetensors"))
checked = 0
for name, module in model.named_modules():
    if not (hasattr(module, "lora_A") and "default" in getattr(module, "lora_A", {})):
        continue
    path = name.removeprefix("base_model.model.")
    a = saved[f"base_model.model.{path}.lora_A.weight"]
    b = saved[f"base_model.model.{path}.lora_B.weight"]
    assert torch.equal(module.lora_A["default"].weight.detach(), a), path
    assert torch.equal(module.lora_B["default"].weight.detach(), b), path
    r, alpha = module.r["default"], module.lora_alpha["default"]
    down = path.endswith("down_proj")
    expected_r = 2 if down else 4
    expected_alpha = 10 if path == "model.layers.1.self_attn.v_proj" else 6
    assert r == expected_r and alpha == expected_alpha, (path, r, alpha)
    assert math.isclose(module.scaling["default"], alpha / math.sqrt(r)), (path, module.scaling["default"])
    checked += 1
assert checked == len(saved) // 2 == 14, (checked, len(saved))
with torch.no_grad():
    logits = model(torch.tensor([[1, 5, 9, 3]])).logits
print(f"PEFT loaded {checked} LoRA modules; A/B identical, ranks and rslora scalings match; logits {tuple(logits.shape)} finite={bool(torch.isfinite(logits).all())}")
