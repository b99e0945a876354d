"""Make the tiny random-weight BERT the transformers-embedder test loads (no pretrained model is
available offline). Writes tiny-bert/: config.json, tokenizer files, onnx/model.onnx (the
transformers.js layout) and expected.json (PyTorch mean-pooled, L2-normalised embeddings of a few
sentences: the independent reference the TS test compares against).

Run from this folder: python3 make-tiny-bert.py   (torch, transformers, onnx; CPU; a few seconds)
"""
import json
import os

import torch
from tokenizers import Tokenizer
from tokenizers.decoders import WordPiece as WordPieceDecoder
from tokenizers.models import WordPiece
from tokenizers.normalizers import BertNormalizer
from tokenizers.pre_tokenizers import BertPreTokenizer
from tokenizers.processors import TemplateProcessing
from transformers import BertConfig, BertModel, BertTokenizerFast

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "tiny-bert")
SENTENCES = [
    "Question: Tom has 5 apples and buys 7 more. How many apples does he have?",
    "Write a function that reverses a string.",
    "hello world",
]

torch.manual_seed(0)
os.makedirs(os.path.join(OUT, "onnx"), exist_ok=True)

words = sorted({w for s in SENTENCES for w in s.lower().replace(".", " . ").replace("?", " ? ").replace(":", " : ").split()})
chars = sorted(set("abcdefghijklmnopqrstuvwxyz0123456789.,:;?!'\"()"))
vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] + words + [c for c in chars if c not in words] + ["##" + c for c in chars]
backend = Tokenizer(WordPiece({token: i for i, token in enumerate(vocab)}, unk_token="[UNK]"))
backend.normalizer = BertNormalizer(lowercase=True)
backend.pre_tokenizer = BertPreTokenizer()
backend.post_processor = TemplateProcessing(single="[CLS] $A [SEP]", pair="[CLS] $A [SEP] $B:1 [SEP]:1",
                                            special_tokens=[("[CLS]", 2), ("[SEP]", 3)])
backend.decoder = WordPieceDecoder()
tokenizer = BertTokenizerFast(tokenizer_object=backend, model_max_length=64)
tokenizer.save_pretrained(OUT)

config = BertConfig(vocab_size=len(vocab), hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                    intermediate_size=64, max_position_embeddings=64,
                    hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0,  # no dropout to export
                    attn_implementation="eager")  # eager: the traced graph keeps the padding mask
model = BertModel(config, add_pooling_layer=False).eval()
model.config.save_pretrained(OUT)



class Exported(torch.nn.Module):
    """Keyword call, so the exporter does not depend on BertModel.forward's positional order."""

    def __init__(self, inner):
        super().__init__()
        self.inner = inner

    def forward(self, input_ids, attention_mask, token_type_ids):
        return self.inner(input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids).last_hidden_state


batch = tokenizer(SENTENCES[:2], padding=True, return_tensors="pt")  # padded batch: traces the mask path
torch.onnx.export(
    Exported(model),
    (batch["input_ids"], batch["attention_mask"], batch["token_type_ids"]),
    os.path.join(OUT, "onnx", "model.onnx"),
    input_names=["input_ids", "attention_mask", "token_type_ids"],
    output_names=["last_hidden_state"],
    dynamic_axes={name: {0: "batch_size", 1: "sequence_length"} for name in ["input_ids", "attention_mask", "token_type_ids", "last_hidden_state"]},
    opset_version=14,
    dynamo=False,
)

expected = []
with torch.no_grad():
    for sentence in SENTENCES:
        encoded = tokenizer([sentence], return_tensors="pt")
        hidden = model(**encoded).last_hidden_state[0]  # (T, H)
        mask = encoded["attention_mask"][0].unsqueeze(-1).float()
        pooled = (hidden * mask).sum(0) / mask.sum()  # (H,) mean pooling
        expected.append({"text": sentence, "embedding": torch.nn.functional.normalize(pooled, dim=0).tolist()})
with open(os.path.join(OUT, "expected.json"), "w") as f:
    json.dump(expected, f)
print("wrote", OUT)

# Self-check: the exported graph, run by onnxruntime on a padded batch tokenized by the saved
# tokenizer, must reproduce the PyTorch reference.
import numpy as np  # noqa: E402
import onnxruntime  # noqa: E402

reloaded = BertTokenizerFast.from_pretrained(OUT)
encoded = reloaded(SENTENCES, padding=True, return_tensors="np")
session = onnxruntime.InferenceSession(os.path.join(OUT, "onnx", "model.onnx"))
hidden = session.run(None, {name: encoded[name].astype(np.int64) for name in ["input_ids", "attention_mask", "token_type_ids"]})[0]
mask = encoded["attention_mask"][..., None]
pooled = (hidden * mask).sum(1) / mask.sum(1)
pooled /= np.linalg.norm(pooled, axis=1, keepdims=True)
error = np.abs(pooled - np.array([item["embedding"] for item in expected])).max()
print("max |onnxruntime - torch| =", error)
assert error < 1e-4, "exported graph does not match PyTorch"
