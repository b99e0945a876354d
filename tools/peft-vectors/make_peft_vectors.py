"""Reference vectors for @lora-tle/mixing, made with real PEFT.

Builds a tiny Llama (transformers LlamaForCausalLM), adds three LoRA adapters with PEFT (random,
non-zero A and B; different alphas; one with use_rslora; a rank_pattern/alpha_pattern case), calls
PEFT's add_weighted_adapter for cat / linear / svd and stores the inputs and PEFT's merged factors
and delta weights in packages/mixing/test-fixtures/peft-vectors.{safetensors,json}.

The PEFT 0.4.0 variants (what the original LoRA-TLE code ran) are NOT produced by PEFT 0.4.0, which
does not install here: they are "PEFT 0.4.0 formulas re-evaluated in torch" (see peft04_linear and
peft04_svd below, which restate peft 0.4.0 tuners/lora.py add_weighted_adapter and
_svd_weighted_adapter), on top of the same PEFT 0.21 adapters.

Run from the repository root:  python3 tools/peft-vectors/make_peft_vectors.py
This is a fixture generator, never a runtime dependency.
"""

from __future__ import annotations

import json
import math
import os

import peft
import torch
import transformers
from peft import LoraConfig, get_peft_model
from safetensors.torch import save_file
from transformers import LlamaConfig, LlamaForCausalLM

OUT_DIR = os.path.join(os.path.dirname(__file__), "..", "..", "packages", "mixing", "test-fixtures")
WEIGHTS = [0.7, -0.2, 0.5]
TARGETS = ["q_proj", "v_proj", "down_proj"]
PEFT04_CLAMP_QUANTILE = 0.99  # peft 0.4.0 tuners/lora.py CLAMP_QUANTILE


def tiny_llama() -> LlamaForCausalLM:
    torch.manual_seed(0)
    config = LlamaConfig(
        vocab_size=32,
        hidden_size=16,
        intermediate_size=24,
        num_hidden_layers=2,
        num_attention_heads=2,
        num_key_value_heads=2,
        max_position_embeddings=64,
    )
    return LlamaForCausalLM(config)


def lora_layers(model):
    """(module path in the base model, LoRA layer) for every LoRA-wrapped Linear."""
    out = []
    for name, module in model.base_model.model.named_modules():
        if isinstance(module, peft.tuners.lora.LoraLayer):
            out.append((name, module))
    return out


def make_case(name, adapter_specs, merges):
    """adapter_specs: list of (adapter name, LoraConfig kwargs); merges: list of dicts."""
    model = tiny_llama()
    first_name, first_kwargs = adapter_specs[0]
    model = get_peft_model(model, LoraConfig(**first_kwargs), adapter_name=first_name)
    for adapter_name, kwargs in adapter_specs[1:]:
        model.add_adapter(adapter_name, LoraConfig(**kwargs))

    # Random non-zero A and B (PEFT initialises B = 0, which would hide every mixing bug).
    generator = torch.Generator().manual_seed(sum(map(ord, name)))  # deterministic per case
    tensors: dict[str, torch.Tensor] = {}
    adapters_json = []
    for adapter_name, kwargs in adapter_specs:
        modules_json = {}
        for path, layer in lora_layers(model):
            if adapter_name not in layer.lora_A:
                continue
            a = layer.lora_A[adapter_name].weight
            b = layer.lora_B[adapter_name].weight
            with torch.no_grad():
                a.copy_(torch.randn(a.shape, generator=generator) * 0.5)
                b.copy_(torch.randn(b.shape, generator=generator) * 0.5)
            assert b.abs().sum() > 0
            tensors[f"{name}/input/{adapter_name}/{path}/A"] = a.detach().clone()
            tensors[f"{name}/input/{adapter_name}/{path}/B"] = b.detach().clone()
            modules_json[path] = {
                "rank": int(layer.r[adapter_name]),
                "alpha": float(layer.lora_alpha[adapter_name]),
                "scaling": float(layer.scaling[adapter_name]),
                "inFeatures": int(layer.in_features),
                "outFeatures": int(layer.out_features),
            }
        config = model.peft_config[adapter_name]
        adapters_json.append(
            {
                "name": adapter_name,
                "config": {
                    "r": config.r,
                    "loraAlpha": config.lora_alpha,
                    "useRslora": bool(config.use_rslora),
                    "rankPattern": dict(config.rank_pattern or {}),
                    "alphaPattern": dict(config.alpha_pattern or {}),
                    "targetModules": sorted(config.target_modules),
                },
                "modules": modules_json,
            }
        )

    adapter_names = [adapter_name for adapter_name, _ in adapter_specs]
    merges_json = []
    for merge in merges:
        combination = merge["combination"]
        key = merge["key"]
        if combination in ("cat", "linear", "svd"):
            merged_name = f"merged_{key}"
            model.add_weighted_adapter(
                adapters=adapter_names,
                weights=WEIGHTS,
                adapter_name=merged_name,
                combination_type=combination,
                svd_rank=merge.get("svdRank"),
            )
            merged_config = model.peft_config[merged_name]
            new_rank, new_rslora = merged_config.r, bool(merged_config.use_rslora)
            source = f"peft {peft.__version__} add_weighted_adapter"
            modules = []
            for path, layer in lora_layers(model):
                if merged_name not in layer.lora_A:
                    continue
                a = layer.lora_A[merged_name].weight.detach()
                b = layer.lora_B[merged_name].weight.detach()
                delta = layer.get_delta_weight(merged_name).detach()
                if combination != "svd":  # SVD factors are defined up to sign: compare delta only
                    tensors[f"{name}/merged/{key}/{path}/A"] = a.clone().contiguous()
                    tensors[f"{name}/merged/{key}/{path}/B"] = b.clone().contiguous()
                tensors[f"{name}/merged/{key}/{path}/delta"] = delta.clone().contiguous()
                modules.append({"path": path, "rank": int(a.shape[0]), "scaling": float(layer.scaling[merged_name])})
        else:
            source = "PEFT 0.4.0 formulas re-evaluated in torch (peft 0.4.0 tuners/lora.py add_weighted_adapter)"
            new_rank, new_rslora, modules = peft04_merge(model, name, key, adapter_names, combination, tensors)
        merges_json.append(
            {
                "key": key,
                "combination": combination,
                "svdRank": merge.get("svdRank"),
                "source": source,
                "newRank": new_rank,
                "newUseRslora": new_rslora,
                "modules": modules,
            }
        )
    return {"name": name, "weights": WEIGHTS, "adapters": adapters_json, "merges": merges_json}, tensors


def peft04_merge(model, case_name, key, adapter_names, combination, tensors):
    """PEFT 0.4.0: one adapter → linear; linear needs equal r; svd rank = max r; new alpha = r."""
    ranks = {model.peft_config[a].r for a in adapter_names}
    if combination == "linear-peft0.4":
        assert len(ranks) == 1
    new_rank = max(ranks)
    new_rslora = bool(model.peft_config[adapter_names[0]].use_rslora)  # replace(config[adapters[0]], ...)
    new_scaling = new_rank / math.sqrt(new_rank) if new_rslora else 1.0
    modules = []
    for path, layer in lora_layers(model):
        present = [(a, w) for a, w in zip(adapter_names, WEIGHTS) if a in layer.lora_A]
        if not present:
            continue
        if combination == "linear-peft0.4":
            a_new, b_new = peft04_linear(layer, present)
        else:
            a_new, b_new = peft04_svd(layer, present, new_rank)
        tensors[f"{case_name}/merged/{key}/{path}/A"] = a_new.contiguous()
        tensors[f"{case_name}/merged/{key}/{path}/B"] = b_new.contiguous()
        tensors[f"{case_name}/merged/{key}/{path}/delta"] = (b_new @ a_new * new_scaling).contiguous()
        modules.append({"path": path, "rank": int(a_new.shape[0]), "scaling": new_scaling})
    return new_rank, new_rslora, modules


def peft04_linear(layer, present):
    """peft 0.4.0: target_lora_A += A_i · w_i · s_i ; target_lora_B += B_i  (B unweighted)."""
    a_new = torch.zeros_like(layer.lora_A[present[0][0]].weight)
    b_new = torch.zeros_like(layer.lora_B[present[0][0]].weight)
    for adapter, weight in present:
        a_new += layer.lora_A[adapter].weight.detach() * weight * layer.scaling[adapter]
        b_new += layer.lora_B[adapter].weight.detach()
    return a_new, b_new


def peft04_svd(layer, present, new_rank):
    """peft 0.4.0 _svd_weighted_adapter: D = Σ w_i ΔW_i; U, S, Vh = svd(D); U = U[:, :r]·diag(S[:r]);
    Vh = Vh[:r]; hi = quantile(cat(U, Vh), 0.99); clamp both to [-hi, hi]; A = Vh, B = U.

    One deliberate addition: singular vectors are defined only up to sign and the clamp depends on
    the sign LAPACK happened to pick, so before clamping we fix it (largest-magnitude entry of each
    U column positive), the convention @lora-tle/mixing uses. PEFT 0.4.0 itself was not
    deterministic across LAPACK builds here."""
    delta = sum(weight * layer.get_delta_weight(adapter).detach() for adapter, weight in present)
    u, s, vh = torch.linalg.svd(delta)
    u = u[:, :new_rank]
    s = s[:new_rank]
    vh = vh[:new_rank, :]
    rows = torch.argmax(u.abs(), dim=0)
    signs = torch.where(u[rows, torch.arange(u.shape[1])] < 0, -1.0, 1.0)
    u = u * signs
    vh = vh * signs[:, None]
    u = u @ torch.diag(s)
    dist = torch.cat([u.flatten(), vh.flatten()])
    hi_val = torch.quantile(dist, PEFT04_CLAMP_QUANTILE)
    u = u.clamp(-hi_val, hi_val)
    vh = vh.clamp(-hi_val, hi_val)
    return vh, u


def lora_kwargs(r, alpha, **extra):
    return {"r": r, "lora_alpha": alpha, "target_modules": list(extra.pop("targets", TARGETS)), "lora_dropout": 0.0, **extra}


def main() -> None:
    torch.set_default_dtype(torch.float32)
    cases = []
    all_tensors: dict[str, torch.Tensor] = {}
    specs = [
        (
            "equal-rank",
            [("math", lora_kwargs(4, 8)), ("science", lora_kwargs(4, 16, use_rslora=True)), ("code", lora_kwargs(4, 4))],
            [
                {"key": "cat", "combination": "cat"},
                {"key": "linear", "combination": "linear"},
                {"key": "svd", "combination": "svd"},
                {"key": "svd-rank6", "combination": "svd", "svdRank": 6},
                {"key": "linear-peft0.4", "combination": "linear-peft0.4"},
                {"key": "svd-peft0.4", "combination": "svd-peft0.4"},
            ],
        ),
        (
            "mixed-rank",
            [("math", lora_kwargs(2, 4)), ("science", lora_kwargs(4, 8, use_rslora=True)), ("code", lora_kwargs(6, 3))],
            [
                {"key": "cat", "combination": "cat"},
                {"key": "svd", "combination": "svd"},
                {"key": "svd-rank3", "combination": "svd", "svdRank": 3},
                {"key": "svd-peft0.4", "combination": "svd-peft0.4"},
            ],
        ),
        (
            "patterns",
            [
                ("math", lora_kwargs(4, 8, rank_pattern={"layers.1.self_attn.q_proj": 2}, alpha_pattern={"v_proj": 32})),
                ("science", lora_kwargs(4, 16, rank_pattern={"down_proj": 6})),
                ("code", lora_kwargs(4, 4, targets=["q_proj", "v_proj"])),
            ],
            [
                {"key": "cat", "combination": "cat"},
                {"key": "svd", "combination": "svd"},
            ],
        ),
        (
            "rslora-first",
            [("science", lora_kwargs(4, 16, use_rslora=True)), ("math", lora_kwargs(4, 8)), ("code", lora_kwargs(4, 4))],
            [
                {"key": "cat", "combination": "cat"},
                {"key": "linear", "combination": "linear"},
            ],
        ),
    ]
    for name, adapter_specs, merges in specs:
        case, tensors = make_case(name, adapter_specs, merges)
        cases.append(case)
        all_tensors.update(tensors)

    os.makedirs(OUT_DIR, exist_ok=True)
    tensors_path = os.path.join(OUT_DIR, "peft-vectors.safetensors")
    save_file({k: v.to(torch.float32).contiguous() for k, v in all_tensors.items()}, tensors_path)
    os.chmod(tensors_path, 0o644)
    meta = {
        "generator": "tools/peft-vectors/make_peft_vectors.py",
        "versions": {"peft": peft.__version__, "torch": torch.__version__, "transformers": transformers.__version__},
        "tensorNames": "{case}/input/{adapter}/{module}/{A|B} and {case}/merged/{key}/{module}/{A|B|delta} (no A/B for PEFT svd: sign-ambiguous); delta = scaling · B · A",
        "cases": cases,
    }
    with open(os.path.join(OUT_DIR, "peft-vectors.json"), "w") as handle:
        json.dump(meta, handle, indent=1)
        handle.write("\n")
    print(f"wrote {len(all_tensors)} tensors for {len(cases)} cases")


if __name__ == "__main__":
    main()
