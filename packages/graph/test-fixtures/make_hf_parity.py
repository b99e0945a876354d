"""Makes the Hugging Face parity fixture for @lora-tle/graph + @lora-tle/backend-node.

A tiny random LlamaForCausalLM (GQA 4/2 heads, tied embeddings, attention bias, llama3 RoPE
scaling) saved with save_pretrained, two PEFT LoRA adapters with non-zero B (one with rslora and an
alpha_pattern), and the logits transformers + PEFT compute for a prompt and a 16-token greedy
continuation: base, each adapter alone, and the 'cat' and 'linear' add_weighted_adapter mixtures.
Run from the repository root:  python3 packages/graph/test-fixtures/make_hf_parity.py
Output: packages/graph/test-fixtures/hf-parity/ (about 200 KB, committed).
"""

import json
import os
import shutil

import numpy as np
import torch
from peft import LoraConfig, PeftModel, get_peft_model
from safetensors.numpy import save_file
from transformers import LlamaConfig, LlamaForCausalLM

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "hf-parity")
PROMPT = [1, 17, 42, 5, 33, 8, 60, 21]
STEPS = 16
MIX_WEIGHTS = [0.7, 0.3]


def greedy(model, prompt):
    """Full recompute per step (no cache): the logits of every prompt position, then of each new token."""
    ids = list(prompt)
    with torch.no_grad():
        prefill = model(torch.tensor([ids])).logits[0].float().numpy()  # (T, V)
        steps = []
        for _ in range(STEPS):
            logits = model(torch.tensor([ids])).logits[0, -1].float().numpy()  # (V,)
            steps.append(logits)
            ids.append(int(np.argmax(logits)))
    return prefill, np.stack(steps), np.array(ids[len(prompt):], dtype=np.int64)


def main():
    torch.manual_seed(0)
    shutil.rmtree(OUT, ignore_errors=True)
    os.makedirs(OUT)
    config = LlamaConfig(
        vocab_size=61, hidden_size=32, intermediate_size=64, num_hidden_layers=2,
        num_attention_heads=4, num_key_value_heads=2, head_dim=16, max_position_embeddings=128,
        rms_norm_eps=1e-5, tie_word_embeddings=True, attention_bias=True, mlp_bias=False,
        rope_scaling={"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0,
                      "original_max_position_embeddings": 8},
        rope_theta=500000.0, bos_token_id=1, eos_token_id=2, attn_implementation="eager",
    )
    base = LlamaForCausalLM(config).eval()
    with torch.no_grad():  # random biases so that attention_bias matters
        for layer in base.model.layers:
            for proj in (layer.self_attn.q_proj, layer.self_attn.k_proj, layer.self_attn.v_proj, layer.self_attn.o_proj):
                proj.bias.normal_(0, 0.1)
            layer.input_layernorm.weight.normal_(1, 0.1)
    base.save_pretrained(os.path.join(OUT, "base"), safe_serialization=True)

    adapters = {
        "alpha": LoraConfig(r=4, lora_alpha=8, target_modules=["q_proj", "v_proj", "gate_proj", "down_proj"], init_lora_weights=False),
        "beta": LoraConfig(r=4, lora_alpha=4, use_rslora=True, alpha_pattern={"layers.1.self_attn.q_proj": 12},
                           target_modules=["q_proj", "k_proj", "o_proj", "up_proj"], init_lora_weights=False),
    }
    for index, (name, lora_config) in enumerate(adapters.items()):
        torch.manual_seed(10 + index)
        fresh = LlamaForCausalLM.from_pretrained(os.path.join(OUT, "base"), attn_implementation="eager").eval()
        peft_model = get_peft_model(fresh, lora_config)
        peft_model.save_pretrained(os.path.join(OUT, name))
        os.remove(os.path.join(OUT, name, "README.md"))
        config_path = os.path.join(OUT, name, "adapter_config.json")
        with open(config_path) as handle:
            saved = json.load(handle)
        saved["base_model_name_or_path"] = "tiny-random-llama"  # not the machine's absolute path
        with open(config_path, "w") as handle:
            json.dump(saved, handle, indent=2)

    results = {}
    base = LlamaForCausalLM.from_pretrained(os.path.join(OUT, "base"), attn_implementation="eager").eval()
    results["base"] = greedy(base, PROMPT)
    model = PeftModel.from_pretrained(base, os.path.join(OUT, "alpha"), adapter_name="alpha").eval()
    model.load_adapter(os.path.join(OUT, "beta"), adapter_name="beta")
    for name in adapters:
        model.set_adapter(name)
        results[name] = greedy(model, PROMPT)
    for combination in ("cat", "linear"):
        model.add_weighted_adapter(list(adapters), MIX_WEIGHTS, f"mix_{combination}", combination_type=combination)
        model.set_adapter(f"mix_{combination}")
        results[f"mix_{combination}"] = greedy(model, PROMPT)

    tensors = {}
    for name, (prefill, steps, ids) in results.items():
        tensors[f"{name}.prefill_logits"] = prefill.astype(np.float32)
        tensors[f"{name}.step_logits"] = steps.astype(np.float32)
        tensors[f"{name}.greedy_ids"] = ids
    save_file(tensors, os.path.join(OUT, "reference.safetensors"))
    with open(os.path.join(OUT, "reference.json"), "w") as handle:
        json.dump({"prompt": PROMPT, "steps": STEPS, "adapters": list(adapters), "mix_weights": MIX_WEIGHTS,
                   "cases": list(results),
                   "greedy_ids": {name: ids.tolist() for name, (_, _, ids) in results.items()}, "torch": torch.__version__, "note": "logits from full recompute per step, fp32, eager attention"}, handle, indent=2)
    print("wrote", OUT, {name: ids.tolist()[:6] for name, (_, _, ids) in results.items()})


if __name__ == "__main__":
    main()
