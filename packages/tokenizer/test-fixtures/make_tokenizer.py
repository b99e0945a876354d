"""Makes the tokenizer test fixtures and their reference encodings (run once; outputs are committed).

What it is: two tiny tokenizers trained with the Python `tokenizers` library (the reference
implementation) on a small inline corpus, plus `expected.json` with the ids and decodes that
Python `tokenizers` produces for a list of probe strings. The TypeScript tests load the same
tokenizer.json through @huggingface/tokenizers and must reproduce those ids and decodes.

What it is not: a real model tokenizer. It stands in until fixtures/tiny-tle/tokenizer.json exists.

  byte-level/  GPT-2 / Llama-3 style: ByteLevel pre-tokenizer and decoder (tokens can end
               mid-character), TemplateProcessing that prepends <s>.
  metaspace/   Llama-2 / SentencePiece style: Metaspace pre-tokenizer, BPE with byte_fallback
               (<0xNN> tokens), Replace/ByteFallback/Fuse/Strip decoder, prepends <s>.

Usage: python3 packages/tokenizer/test-fixtures/make_tokenizer.py
"""

import json
import os

from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers

HERE = os.path.dirname(os.path.abspath(__file__))

CORPUS = [
    "Question: Natalia sold clips to 48 of her friends in April, and then she sold half as many clips in May.",
    "Answer: Natalia sold 48/2 = 24 clips in May. #### 72",
    "Question: Which property of a mineral can be determined just by looking at it?",
    "Choices: A. luster\nB. mass\nC. weight\nD. hardness",
    "Create a function to calculate the sum of a sequence of integers.",
    "def add(a, b):\n    return a + b\n\nfor i in range(10):\n    print(i * 2)",
    "Context:\nThe Normans were the people who in the 10th and 11th centuries gave their name to Normandy.",
    "The quick brown fox jumps over the lazy dog. Café naïve résumé über straße.",
    "东京是日本的首都。我喜欢学习。 こんにちは世界",
    "Emoji: 😀 🎉 👍🏽 🇫🇷 — “quotes” and ‘single’ … ellipsis",
    "function greet(name: string): string { return `Hello, ${name}!`; }",
    "    indented   spaces\t\ttabs\n\n\nnewlines",
] * 4

PROBES = [
    "Hello world",
    "Question: What is 12 + 30?\n\nAnswer:",
    "Answer: 42",
    "#### 72",
    "  leading spaces",
    "trailing spaces   ",
    "multiple     internal      spaces",
    "tabs\tand\nnewlines\n\n\n",
    "Café naïve résumé",
    "über straße Ærøskøbing",
    "东京是日本的首都。",
    "こんにちは世界",
    "한국어 텍스트",
    "😀",
    "Party 🎉🎉 time 👍🏽 and flags 🇫🇷🇯🇵",
    "👨‍👩‍👧‍👦 family",
    "def add(a, b):\n    return a + b\n",
    "for (let i = 0; i < n; i++) { sum += xs[i]; }",
    "const s = `Hello, ${name}!`;",
    "“curly quotes” — em dash … ellipsis",
    "Mixed: abc123 4.5e-3 0xFF $12.50 50%",
    "Zalgo: Z̷̢a̶l̸g̴o",
    "",
    " ",
    "<s> literal special token text </s>",
    "Ω≈ç√∫˜µ≤≥÷",
]


def train_byte_level() -> Tokenizer:
    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=420,
        special_tokens=["<s>", "</s>", "<pad>"],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tokenizer.train_from_iterator(CORPUS, trainer)
    bos = tokenizer.token_to_id("<s>")
    tokenizer.post_processor = processors.TemplateProcessing(
        single="<s> $A", pair="<s> $A <s> $B", special_tokens=[("<s>", bos)]
    )
    return tokenizer


def train_metaspace() -> Tokenizer:
    tokenizer = Tokenizer(models.BPE(byte_fallback=True, unk_token="<unk>", fuse_unk=True))
    tokenizer.normalizer = normalizers.Sequence([normalizers.Prepend("▁"), normalizers.Replace(" ", "▁")])
    tokenizer.decoder = decoders.Sequence(
        [decoders.Replace("▁", " "), decoders.ByteFallback(), decoders.Fuse(), decoders.Strip(" ", 1, 0)]
    )
    byte_tokens = [f"<0x{b:02X}>" for b in range(256)]
    trainer = trainers.BpeTrainer(
        vocab_size=420,
        special_tokens=["<unk>", "<s>", "</s>"] + byte_tokens,
        show_progress=False,
        limit_alphabet=60,
    )
    tokenizer.train_from_iterator(CORPUS, trainer)
    bos = tokenizer.token_to_id("<s>")
    tokenizer.post_processor = processors.TemplateProcessing(
        single="<s> $A", pair="<s> $A <s> $B", special_tokens=[("<s>", bos)]
    )
    return tokenizer


def token_content(token) -> str | None:
    """tokenizer_config.json names a token as a string or as an AddedToken object."""
    return token["content"] if isinstance(token, dict) else token


def record(name: str, tokenizer: Tokenizer, config: dict) -> None:
    folder = os.path.join(HERE, name)
    os.makedirs(folder, exist_ok=True)
    tokenizer.save(os.path.join(folder, "tokenizer.json"))
    with open(os.path.join(folder, "tokenizer_config.json"), "w") as f:
        json.dump(config, f, indent=2)
        f.write("\n")
    cases = []
    for text in PROBES:
        with_special = tokenizer.encode(text, add_special_tokens=True).ids
        plain = tokenizer.encode(text, add_special_tokens=False).ids
        cases.append(
            {
                "text": text,
                "ids": plain,
                "idsWithSpecial": with_special,
                "decoded": tokenizer.decode(plain, skip_special_tokens=False),
                "decodedWithSpecialSkipped": tokenizer.decode(with_special, skip_special_tokens=True),
                "decodedWithSpecialKept": tokenizer.decode(with_special, skip_special_tokens=False),
            }
        )
    expected = {
        "generator": "make_tokenizer.py with Python tokenizers " + __import__("tokenizers").__version__,
        "vocabSize": tokenizer.get_vocab_size(with_added_tokens=True),
        "bosId": tokenizer.token_to_id(token_content(config["bos_token"])),
        "eosId": tokenizer.token_to_id(token_content(config["eos_token"])),
        "padId": tokenizer.token_to_id(token_content(config["pad_token"])) if config.get("pad_token") else None,
        "cases": cases,
    }
    with open(os.path.join(folder, "expected.json"), "w") as f:
        json.dump(expected, f, indent=1, ensure_ascii=False)
        f.write("\n")


if __name__ == "__main__":
    record(
        "byte-level",
        train_byte_level(),
        {
            "bos_token": "<s>",
            "eos_token": "</s>",
            "pad_token": "<pad>",
            "clean_up_tokenization_spaces": False,
            "model_max_length": 2048,
            "tokenizer_class": "PreTrainedTokenizerFast",
        },
    )
    record(
        "metaspace",
        train_metaspace(),
        {
            "bos_token": {"content": "<s>", "lstrip": False, "normalized": False, "rstrip": False, "special": True, "__type": "AddedToken"},
            "eos_token": {"content": "</s>", "lstrip": False, "normalized": False, "rstrip": False, "special": True, "__type": "AddedToken"},
            "pad_token": None,
            "clean_up_tokenization_spaces": False,
            "legacy": False,
            "model_max_length": 2048,
            "tokenizer_class": "LlamaTokenizerFast",
        },
    )
