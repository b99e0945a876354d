"""Python counterpart of decode-vs-transformers.ts (a benchmark, not a test).

  decode_transformers.py make-random DIR            write a random Llama checkpoint for benchmarking
  decode_transformers.py run DIR PROMPT_IDS N THREADS   greedy generate() N tokens; print JSON timings

Base-only decode tokens/s of transformers generate() in PyTorch on the CPU: the time of a generate
of N new tokens minus that of 1 new token (the prefill), over N - 1 tokens, best of 3 after warm-up.
"""

import json
import sys
import time

import torch
from transformers import LlamaConfig, LlamaForCausalLM


def make_random(path):
    torch.manual_seed(0)
    config = LlamaConfig(vocab_size=4096, hidden_size=512, intermediate_size=1376, num_hidden_layers=8,
                         num_attention_heads=8, num_key_value_heads=4, max_position_embeddings=1024,
                         tie_word_embeddings=False, bos_token_id=1, eos_token_id=2)
    LlamaForCausalLM(config).save_pretrained(path, safe_serialization=True)


def run(path, prompt_ids, new_tokens, threads):
    torch.set_num_threads(threads)
    model = LlamaForCausalLM.from_pretrained(path, dtype=torch.float32).eval()
    # never stop at </s> and never suppress it (min_new_tokens would): exactly `count` argmax tokens
    model.generation_config.eos_token_id = None
    ids = torch.tensor([prompt_ids])
    mask = torch.ones_like(ids)

    def generate(count):
        start = time.perf_counter()
        with torch.no_grad():
            out = model.generate(ids, attention_mask=mask, max_new_tokens=count, do_sample=False,
                                 pad_token_id=0)
        return time.perf_counter() - start, out[0, len(prompt_ids):].tolist()

    generate(4)  # warm-up
    best = None
    tokens = []
    for _ in range(3):
        prefill, _ = generate(1)
        total, tokens = generate(new_tokens)
        rate = (new_tokens - 1) / max(total - prefill, 1e-9)
        best = rate if best is None else max(best, rate)
    print(json.dumps({"decode_tokens_per_s": best, "tokens": tokens, "threads": threads,
                      "torch": torch.__version__}))


if __name__ == "__main__":
    if sys.argv[1] == "make-random":
        make_random(sys.argv[2])
    else:
        run(sys.argv[2], json.loads(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]))
