"""Cross-checks `lora-tle merge` against PEFT (the reference), by hand; not part of the test suite.

What it does: loads the base checkpoint with transformers, loads every input adapter with PEFT,
runs PEFT's own add_weighted_adapter with the same weights and combination, then loads the
adapter lora-tle wrote with PeftModel.load_adapter and compares ΔW = scaling · B · A per module.
(cat layouts may order rank rows differently; ΔW is what must agree.)

Usage:
  python3 apps/cli/tools/check_merge_with_peft.py BASE_DIR OUT_DIR COMBINATION ADAPTER:WEIGHT [...]
  COMBINATION: cat | linear | svd  (PEFT 0.21 names; the *-peft0.4 variants have no PEFT 0.21 twin)
Prints the largest |ΔW difference| per module and exits 1 if any exceeds 1e-4 (svd: 1e-3).
"""

import sys

import torch
from peft import PeftModel
from transformers import LlamaForCausalLM


def delta(model, adapter, module_name):
    module = model.get_submodule(module_name)
    a = module.lora_A[adapter].weight.detach().double()
    b = module.lora_B[adapter].weight.detach().double()
    return module.scaling[adapter] * (b @ a)


def main() -> int:
    base_dir, out_dir, combination, *pairs = sys.argv[1:]
    adapters = [(pair.rsplit(":", 1)[0], float(pair.rsplit(":", 1)[1])) for pair in pairs]
    base = LlamaForCausalLM.from_pretrained(base_dir, torch_dtype=torch.float32)
    model = PeftModel.from_pretrained(base, adapters[0][0], adapter_name="in0")
    for index, (path, _) in enumerate(adapters[1:], start=1):
        model.load_adapter(path, adapter_name=f"in{index}")
    names = [f"in{i}" for i in range(len(adapters))]
    weights = [weight for _, weight in adapters]
    model.add_weighted_adapter(names, weights, "peft_merged", combination_type=combination)
    model.load_adapter(out_dir, adapter_name="ours")
    print(f"PEFT loaded {out_dir} as adapter 'ours'")
    tolerance = 1e-3 if combination.startswith("svd") else 1e-4
    worst = 0.0
    checked = 0
    for name, module in model.named_modules():
        if hasattr(module, "lora_A") and "ours" in module.lora_A:
            ours = delta(model, "ours", name)
            reference = delta(model, "peft_merged", name) if "peft_merged" in module.lora_A else torch.zeros_like(ours)
            difference = (ours - reference).abs().max().item()
            scale = reference.abs().max().item()
            print(f"{name}: max |ΔW ours − ΔW peft| = {difference:.3e} (max |ΔW| {scale:.3e})")
            worst = max(worst, difference)
            checked += 1
    print(f"{checked} modules, worst difference {worst:.3e}, tolerance {tolerance}")
    return 0 if checked > 0 and worst <= tolerance else 1


if __name__ == "__main__":
    sys.exit(main())
