#!/usr/bin/env python3
"""The original LoRA-TLE generation loop in Python, on the tiny-tle fixture, for speed comparison.

What it runs (the paper's algorithm, as its code did it):
  load the base model + the four PEFT adapters (transformers + PEFT); for every generated token:
    1. decode the whole text so far and embed it,
    2. cosine similarity to each adapter's profile, the largest x4, softmax (the paper's rule),
    3. model.add_weighted_adapter(adapters, weights, combination_type="linear") into a fresh
       adapter, set it active,
    4. a full forward over the whole sequence with no KV cache (use_cache=False),
    5. greedy next token; delete the merged adapter.
  EOS is masked (as in `lora-tle bench`) so the run has exactly --tokens tokens.

Embedder: the original used all-MiniLM-L6-v2 (sentence-transformers), which is not available
offline. This is a Python port of lora-tle's `hashing` embedder (character 3..6-grams and word
1..2-grams, FNV-1a + fmix32 feature hashing into 4096 dims, 1 + ln tf, L2 norm): the same vectors
as the TypeScript one on ASCII text (Python's \\w differs from \\p{L}\\p{N}_ on rare Unicode), and
much cheaper than MiniLM, so this loop's speed is if anything flattered. Profiles average an evenly
spaced 200 training texts per task (the routing quality is not what this script measures).

    python3 tools/original-loop/original_loop.py                 # fixture, 128 tokens, a table
    python3 tools/original-loop/original_loop.py --json          # one JSON line (lora-tle bench --python)
    python3 tools/original-loop/original_loop.py --self-test     # random tiny model, checks the merge
"""
from __future__ import annotations

import argparse
import json
import math
import re
import resource
import sys
import tempfile
import time
from pathlib import Path

TASKS = ["math", "science", "code", "reading"]
DEFAULT_PROMPT = ("Question: A baker makes 24 muffins in the morning and 17 more in the afternoon. She sells 29 of them. "
                  "How many muffins are left?\n\nAnswer:")
PROFILE_TEXTS = 200

# ---- hashing embedder (port of packages/router/src/hashing-embedder.ts, default settings) ----

DIM, CHAR_MIN, CHAR_MAX, WORD_MAX, CHAR_WEIGHT, WORD_WEIGHT = 4096, 3, 6, 2, 1.0, 0.5
FNV_OFFSET, FNV_PRIME, MASK32 = 0x811C9DC5, 0x01000193, 0xFFFFFFFF
WORD_PATTERN = re.compile(r"[^\W]+|[^\s\w]", re.UNICODE)


def fnv_step(h: int, unit: int) -> int:
    return ((h ^ unit) * FNV_PRIME) & MASK32


def fmix32(h: int) -> int:
    h ^= h >> 16
    h = (h * 0x85EBCA6B) & MASK32
    h ^= h >> 13
    h = (h * 0xC2B2AE35) & MASK32
    return h ^ (h >> 16)


CHAR_SEED, WORD_SEED, WORD_SEPARATOR = fnv_step(FNV_OFFSET, 0xE000), fnv_step(FNV_OFFSET, 0xE001), 0xE002


def utf16_units(text: str) -> list[int]:
    data = text.encode("utf-16-le")
    return [data[i] | (data[i + 1] << 8) for i in range(0, len(data), 2)]


def embed(text: str) -> list[float]:
    vector = [0.0] * DIM
    normalized = " ".join(text.lower().split())
    if not normalized:
        return vector

    def flush(counts: dict[int, int], weight: float) -> None:
        for key, tf in counts.items():
            value = weight * (1.0 if tf == 1 else 1.0 + math.log(tf))
            vector[key % DIM] += -value if key & 0x80000000 else value

    units = utf16_units(f" {normalized} ")
    counts: dict[int, int] = {}
    for start in range(0, len(units) - CHAR_MIN + 1):
        h = CHAR_SEED
        for end in range(start, min(start + CHAR_MAX, len(units))):
            h = fnv_step(h, units[end])
            if end + 1 - start >= CHAR_MIN:
                key = fmix32(h)
                counts[key] = counts.get(key, 0) + 1
    flush(counts, CHAR_WEIGHT)
    words = WORD_PATTERN.findall(normalized)
    counts = {}
    for start in range(len(words)):
        h = WORD_SEED
        for end in range(start, min(start + WORD_MAX, len(words))):
            if end > start:
                h = fnv_step(h, WORD_SEPARATOR)
            for unit in utf16_units(words[end]):
                h = fnv_step(h, unit)
            key = fmix32(h)
            counts[key] = counts.get(key, 0) + 1
    flush(counts, WORD_WEIGHT)
    norm = math.sqrt(sum(x * x for x in vector))
    return [x / norm for x in vector] if norm > 0 else vector


def paper_weights(embedding: list[float], profiles: list[list[float]]) -> list[float]:
    """Cosine similarity to each profile mean, the largest x4, softmax."""
    sims = []
    for profile in profiles:
        dot = sum(a * b for a, b in zip(embedding, profile))
        norm = math.sqrt(sum(b * b for b in profile)) * math.sqrt(sum(a * a for a in embedding))
        sims.append(dot / norm if norm > 0 else 0.0)
    best = max(range(len(sims)), key=lambda i: sims[i])
    sims[best] *= 4
    top = max(sims)
    exps = [math.exp(s - top) for s in sims]
    return [e / sum(exps) for e in exps]


# ---- the loop ----

def load(fixture: Path, adapters: list[str]):
    import torch
    from peft import PeftModel
    from transformers import LlamaForCausalLM

    base = LlamaForCausalLM.from_pretrained(fixture, attn_implementation="eager", dtype=torch.float32)
    model = PeftModel.from_pretrained(base, fixture / "adapters" / adapters[0], adapter_name=adapters[0])
    for name in adapters[1:]:
        model.load_adapter(fixture / "adapters" / name, adapter_name=name)
    model.eval()
    return model


def profiles_from(fixture: Path, adapters: list[str]) -> list[list[float]]:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "fixtures"))
    profiles = []
    for name in adapters:
        path = fixture / "data" / name / "train.jsonl"
        if not path.exists():  # no data: a one-hot-ish stand-in keeps the cost of the loop the same
            profiles.append(embed(name))
            continue
        from common import format_example  # the fixture's formats: prompt + " " + answer
        rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
        picked = [rows[(j * len(rows)) // PROFILE_TEXTS] for j in range(min(PROFILE_TEXTS, len(rows)))]
        mean = [0.0] * DIM
        for row in picked:
            for i, x in enumerate(embed(format_example(name, row))):
                mean[i] += x / len(picked)
        profiles.append(mean)
    return profiles


def generate(model, tokenizer, profiles: list[list[float]], adapters: list[str], prompt: str, tokens: int, eos_ids: list[int]):
    import torch

    ids = tokenizer.encode(prompt).ids
    timing = {"routing": 0.0, "merge": 0.0, "model": 0.0, "sampling": 0.0}
    started = time.perf_counter()
    cpu_started = time.process_time()
    first_token_at = None
    weights_log = []
    with torch.no_grad():
        for _ in range(tokens):
            t0 = time.perf_counter()
            text = tokenizer.decode(ids, skip_special_tokens=True)
            weights = paper_weights(embed(text), profiles)
            t1 = time.perf_counter()
            model.add_weighted_adapter(adapters, weights, adapter_name="merged", combination_type="linear")
            model.set_adapter("merged")
            t2 = time.perf_counter()
            logits = model(input_ids=torch.tensor([ids]), use_cache=False).logits[0, -1]
            t3 = time.perf_counter()
            logits[eos_ids] = float("-inf")
            next_id = int(torch.argmax(logits))
            ids.append(next_id)
            t4 = time.perf_counter()
            first_token_at = first_token_at or t4
            model.set_adapter(adapters[0])
            model.delete_adapter("merged")
            t5 = time.perf_counter()
            timing["routing"] += t1 - t0
            timing["merge"] += (t2 - t1) + (t5 - t4)
            timing["model"] += t3 - t2
            timing["sampling"] += t4 - t3
            weights_log.append(weights)
    total = time.perf_counter() - started
    timing["cpu"] = time.process_time() - cpu_started
    return ids, total, first_token_at - started, timing, weights_log


def run(args) -> dict:
    import torch
    from tokenizers import Tokenizer

    if args.threads:
        torch.set_num_threads(args.threads)
    fixture = Path(args.fixture)
    for needed in ["config.json", "model.safetensors", "tokenizer.json", *[f"adapters/{t}/adapter_config.json" for t in TASKS]]:
        if not (fixture / needed).exists():
            raise SystemExit(f"original_loop: {fixture / needed} is missing; generate the tiny-tle fixture first (tools/fixtures)")
    tokenizer = Tokenizer.from_file(str(fixture / "tokenizer.json"))
    model = load(fixture, TASKS)
    config = json.loads((fixture / "config.json").read_text())
    eos = config.get("eos_token_id", 2)
    eos_ids = eos if isinstance(eos, list) else [eos]
    profiles = profiles_from(fixture, TASKS)
    generate(model, tokenizer, profiles, TASKS, args.prompt, 2, eos_ids)  # warm-up
    ids, total, ttft, timing, _ = generate(model, tokenizer, profiles, TASKS, args.prompt, args.tokens, eos_ids)
    n = args.tokens
    return {
        "mode": "python-original",
        "tokens": n,
        "tokensPerSecond": n / total,
        "msPerToken": {"routing": 1000 * timing["routing"] / n, "model": 1000 * (timing["model"] + timing["merge"]) / n,
                       "sampling": 1000 * timing["sampling"] / n, "merge": 1000 * timing["merge"] / n},
        "ttftMs": 1000 * ttft,
        "cpuMsPerToken": 1000 * timing["cpu"] / n,  # process CPU time: all torch threads together
        "peakRssMb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "threads": torch.get_num_threads(),
        "text": tokenizer.decode(ids, skip_special_tokens=True)[len(args.prompt):][:200],
    }


def self_test() -> None:
    """On a random tiny Llama with 4 random adapters (B != 0): the loop runs, and a one-hot weight
    vector through add_weighted_adapter('linear') gives the logits of that adapter alone."""
    import torch
    from peft import LoraConfig, PeftModel, get_peft_model
    from tokenizers import Tokenizer
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(0)
    fixture_tokenizer = Path(__file__).resolve().parents[2] / "fixtures" / "tiny-tle" / "tokenizer.json"
    tokenizer = Tokenizer.from_file(str(fixture_tokenizer))
    with tempfile.TemporaryDirectory() as root:
        base_dir = Path(root)
        config = LlamaConfig(vocab_size=tokenizer.get_vocab_size(), hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                             num_attention_heads=2, num_key_value_heads=1, max_position_embeddings=256, eos_token_id=2, bos_token_id=1)
        LlamaForCausalLM(config).save_pretrained(base_dir)
        for i, name in enumerate(TASKS):
            peft = get_peft_model(LlamaForCausalLM.from_pretrained(base_dir), LoraConfig(
                r=4, lora_alpha=8, target_modules=["q_proj", "v_proj", "down_proj"], init_lora_weights=False))
            peft.save_pretrained(base_dir / "adapters" / name)
        model = load(base_dir, TASKS)
        ids = torch.tensor([tokenizer.encode("Question: 2 + 3?\n\nAnswer:").ids])
        with torch.no_grad():
            for k, name in enumerate(TASKS):
                model.set_adapter(name)
                alone = model(input_ids=ids, use_cache=False).logits
                one_hot = [1.0 if j == k else 0.0 for j in range(len(TASKS))]
                model.add_weighted_adapter(TASKS, one_hot, adapter_name="merged", combination_type="linear")
                model.set_adapter("merged")
                merged = model(input_ids=ids, use_cache=False).logits
                model.set_adapter(TASKS[0])
                model.delete_adapter("merged")
                error = float((alone - merged).abs().max())
                assert error < 1e-4, f"one-hot merge of {name} differs from the adapter alone by {error}"
            with model.disable_adapter():
                base_logits = model(input_ids=ids, use_cache=False).logits
            assert float((base_logits - alone).abs().max()) > 1e-3, "adapters must change the output (B != 0)"
        profiles = [embed(name) for name in TASKS]
        out, total, _, timing, weights = generate(model, tokenizer, profiles, TASKS, "Question: 2 + 3?\n\nAnswer:", 6, [2])
        assert len(out) == len(ids[0]) + 6 and all(abs(sum(w) - 1) < 1e-9 for w in weights)
        assert all(max(w) == w[max(range(4), key=lambda i: w[i])] for w in weights)
    # the embedder port against numbers from the TypeScript embedder (packages/router, default settings)
    # (values printed by createHashingEmbedder().embedOne(...) in TypeScript, float32)
    vector = embed("Question: Tom has 3 apples, buys 4 more; how many?\n\nAnswer: 3 + 4 = 7.\n#### 7")
    assert sum(1 for x in vector if x != 0) == 323
    for bucket in (762, 966, 1540, 2204):
        assert abs(vector[bucket] - (-0.11295800656080246)) < 1e-6, (bucket, vector[bucket])
    print(f"self-test passed ({6 / total:.1f} tok/s on the random tiny model; routing {1000 * timing['routing'] / 6:.2f} ms/token)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--fixture", default=str(Path(__file__).resolve().parents[2] / "fixtures" / "tiny-tle"))
    parser.add_argument("--tokens", type=int, default=128)
    parser.add_argument("--prompt", default=DEFAULT_PROMPT)
    parser.add_argument("--threads", type=int, default=0, help="torch intra-op threads (default: torch's choice)")
    parser.add_argument("--json", action="store_true", help="print one JSON line")
    parser.add_argument("--self-test", action="store_true")
    args = parser.parse_args()
    if args.self_test:
        self_test()
        return
    result = run(args)
    if args.json:
        print(json.dumps(result))
    else:
        ms = result["msPerToken"]
        print(f"{result['tokens']} tokens, {result['tokensPerSecond']:.2f} tok/s, TTFT {result['ttftMs']:.0f} ms, "
              f"ms/token: routing {ms['routing']:.2f}, merge {ms['merge']:.2f}, forward {ms['model'] - ms['merge']:.2f}, "
              f"sampling {ms['sampling']:.2f}; peak RSS {result['peakRssMb']:.0f} MB, {result['threads']} threads")


if __name__ == "__main__":
    main()
