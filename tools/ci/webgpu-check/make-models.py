# Makes two tiny ONNX models for checking onnxruntime-node's WebGPU provider against its CPU
# provider (run-check.cjs): MatMul + Add, and one com.microsoft GroupQueryAttention node with
# do_rotary=1, head_size 32, 4 heads, 2 kv heads, past/present KV. Not a test of the model pack.
# Usage: python3 make-models.py OUT_DIR
import os, sys
import onnx, numpy as np
OUT = sys.argv[1] if len(sys.argv) > 1 else '.'
os.makedirs(OUT, exist_ok=True)
from onnx import helper as h, TensorProto as T
# MatMul + Add
W = np.random.RandomState(0).randn(8, 4).astype(np.float32)
b = np.random.RandomState(1).randn(4).astype(np.float32)
g = h.make_graph([h.make_node('MatMul', ['x', 'W'], ['y0']), h.make_node('Add', ['y0', 'b'], ['y'])], 'mm',
  [h.make_tensor_value_info('x', T.FLOAT, ['n', 8])], [h.make_tensor_value_info('y', T.FLOAT, ['n', 4])],
  [onnx.numpy_helper.from_array(W, 'W'), onnx.numpy_helper.from_array(b, 'b')])
m = h.make_model(g, opset_imports=[h.make_opsetid('', 17)]); m.ir_version = 10
onnx.checker.check_model(m); onnx.save(m, os.path.join(OUT, 'matmul-add.onnx'))
# GQA
nh, nkv, d = 4, 2, 32
H = nh*d; KV = nkv*d
node = h.make_node('GroupQueryAttention',
  ['query', 'key', 'value', 'past_key', 'past_value', 'seqlens_k', 'total_sequence_length', 'cos_cache', 'sin_cache'],
  ['attn', 'present_key', 'present_value'], domain='com.microsoft', num_heads=nh, kv_num_heads=nkv, do_rotary=1, scale=d**-0.5)
maxpos = 64
inv = 1.0 / (10000 ** (np.arange(0, d, 2) / d))
ang = np.outer(np.arange(maxpos), inv).astype(np.float32)
g = h.make_graph([node], 'gqa', [
  h.make_tensor_value_info('query', T.FLOAT, ['batch_size', 'sequence_length', H]),
  h.make_tensor_value_info('key', T.FLOAT, ['batch_size', 'sequence_length', KV]),
  h.make_tensor_value_info('value', T.FLOAT, ['batch_size', 'sequence_length', KV]),
  h.make_tensor_value_info('past_key', T.FLOAT, ['batch_size', nkv, 'past_sequence_length', d]),
  h.make_tensor_value_info('past_value', T.FLOAT, ['batch_size', nkv, 'past_sequence_length', d]),
  h.make_tensor_value_info('seqlens_k', T.INT32, ['batch_size']),
  h.make_tensor_value_info('total_sequence_length', T.INT32, []),
 ], [
  h.make_tensor_value_info('attn', T.FLOAT, ['batch_size', 'sequence_length', H]),
  h.make_tensor_value_info('present_key', T.FLOAT, ['batch_size', nkv, 'total_sequence_length', d]),
  h.make_tensor_value_info('present_value', T.FLOAT, ['batch_size', nkv, 'total_sequence_length', d]),
 ], [onnx.numpy_helper.from_array(np.cos(ang), 'cos_cache'), onnx.numpy_helper.from_array(np.sin(ang), 'sin_cache')])
m = h.make_model(g, opset_imports=[h.make_opsetid('', 17), h.make_opsetid('com.microsoft', 1)]); m.ir_version = 10
onnx.save(m, os.path.join(OUT, 'gqa.onnx'))
import onnxruntime as ort
s = ort.InferenceSession(os.path.join(OUT, 'gqa.onnx'), providers=['CPUExecutionProvider'])
r = np.random.RandomState(2)
o = s.run(None, {'query': r.randn(1,3,H).astype(np.float32), 'key': r.randn(1,3,KV).astype(np.float32), 'value': r.randn(1,3,KV).astype(np.float32),
  'past_key': np.zeros((1,nkv,0,d),np.float32), 'past_value': np.zeros((1,nkv,0,d),np.float32), 'seqlens_k': np.array([2],np.int32), 'total_sequence_length': np.array(3,np.int32)})
print('python onnxruntime CPU gqa output shapes', [x.shape for x in o])
