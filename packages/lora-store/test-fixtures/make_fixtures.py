"""Makes the small committed fixtures for @lora-tle/lora-store tests, with the real Python stack
(torch + safetensors + transformers + peft) as the independent reference.

Run from anywhere:  python3 packages/lora-store/test-fixtures/make_fixtures.py
Writes next to this script:
  dtypes.safetensors, dtypes.json   special and random values as F16/BF16/F32/F64/I64 written by
                                    safetensors.torch, and the float32 bits torch decodes them to
  tiny-llama/                       LlamaForCausalLM.save_pretrained (config.json, model.safetensors)
  tiny-llama-sharded/               the same model saved in several shards with an index
  tiny-adapter/                     a PEFT LoRA adapter (rank/alpha patterns, random B) + expected.json
                                    with the scaling and rank PEFT itself resolved per module
"""
import json
import os
import shutil

import torch
from safetensors.torch import save_file

HERE = os.path.dirname(os.path.abspath(__file__))


def f32_bits(t):
    return [int(v) & 0xFFFFFFFF for v in t.float().contiguous().view(torch.int32).tolist()]


def make_dtypes():
    g = torch.Generator().manual_seed(1234)
    special = torch.tensor(
        [0.0, -0.0, 1.0, -1.0, 0.5, 65504.0, 65520.0, 1e5, -1e5, 6.103515625e-05, 5.96e-08, 2.9e-08, 3e-08, 1e-10,
         float("inf"), float("-inf"), float("nan"), 3.14159265, 1 / 3, 2.0 ** -14, 2.0 ** -24, 1.00048828125, 1.0009765625],
        dtype=torch.float32,
    )
    magnitudes = torch.exp(torch.empty(200).uniform_(-30, 30, generator=g))
    signs = torch.where(torch.rand(200, generator=g) < 0.5, -1.0, 1.0)
    source = torch.cat([special, magnitudes * signs, torch.randn(100, generator=g)]).contiguous()
    f16 = source.half()
    bf16 = source.bfloat16()
    tensors = {
        "f16": f16.reshape(-1),
        "bf16": bf16.reshape(-1),
        "f32": source.reshape(-1),
        "f64": source.double()[:16].reshape(4, 4),
        "i64": torch.tensor([[0, -1, 2**40], [7, -2**31, 123456789]], dtype=torch.int64),
        "scalar": torch.tensor(2.5, dtype=torch.float32),
        "empty": torch.zeros((0, 3), dtype=torch.float32),
    }
    save_file(tensors, os.path.join(HERE, "dtypes.safetensors"), metadata={"format": "pt"})
    expected = {
        "source_f32_bits": f32_bits(source),
        "f16_bits": [int(v) & 0xFFFF for v in f16.view(torch.int16).tolist()],
        "bf16_bits": [int(v) & 0xFFFF for v in bf16.view(torch.int16).tolist()],
        "f16_as_f32_bits": f32_bits(f16.float()),
        "bf16_as_f32_bits": f32_bits(bf16.float()),
        "f64_as_f32_bits": f32_bits(source.double()[:16].float()),
        "i64_values": tensors["i64"].reshape(-1).tolist(),
    }
    with open(os.path.join(HERE, "dtypes.json"), "w") as f:
        json.dump(expected, f)


def tiny_config():
    from transformers import LlamaConfig

    return LlamaConfig(vocab_size=32, hidden_size=16, intermediate_size=24, num_hidden_layers=2, num_attention_heads=4,
                       num_key_value_heads=2, max_position_embeddings=64, tie_word_embeddings=False)


def make_model():
    from transformers import LlamaForCausalLM

    torch.manual_seed(0)
    model = LlamaForCausalLM(tiny_config()).eval()
    for name in ("tiny-llama", "tiny-llama-sharded"):
        shutil.rmtree(os.path.join(HERE, name), ignore_errors=True)
    model.save_pretrained(os.path.join(HERE, "tiny-llama"))
    model.save_pretrained(os.path.join(HERE, "tiny-llama-sharded"), max_shard_size="8KB")
    for name in ("tiny-llama", "tiny-llama-sharded"):
        gen = os.path.join(HERE, name, "generation_config.json")
        if os.path.exists(gen):
            os.remove(gen)
    return model


def make_adapter(model):
    from peft import LoraConfig, get_peft_model

    torch.manual_seed(1)
    config = LoraConfig(r=4, lora_alpha=8, target_modules=["q_proj", "v_proj", "down_proj"],
                        rank_pattern={"down_proj": 2}, alpha_pattern={"layers.1.self_attn.q_proj": 16},
                        init_lora_weights=False, lora_dropout=0.0, task_type="CAUSAL_LM")
    peft_model = get_peft_model(model, config)
    out = os.path.join(HERE, "tiny-adapter")
    shutil.rmtree(out, ignore_errors=True)
    peft_model.save_pretrained(out)
    expected = {}
    for name, module in peft_model.named_modules():
        if hasattr(module, "scaling") and isinstance(module.scaling, dict) and "default" in module.scaling:
            path = name.removeprefix("base_model.model.")
            expected[path] = {"rank": module.r["default"], "alpha": module.lora_alpha["default"],
                              "scaling": module.scaling["default"],
                              "in": module.in_features, "out": module.out_features}
    with open(os.path.join(out, "expected.json"), "w") as f:
        json.dump(expected, f, indent=1, sort_keys=True)
    readme = os.path.join(out, "README.md")
    if os.path.exists(readme):
        os.remove(readme)


if __name__ == "__main__":
    make_dtypes()
    make_adapter(make_model())
    print("fixtures written to", HERE)
