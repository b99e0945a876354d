// Runs the models from make-models.py on onnxruntime-node's webgpu and cpu providers and prints
// the largest difference: prefill of 5 tokens, then 3 decode steps feeding present → past.
// Usage: XDG_RUNTIME_DIR=/tmp VK_ICD_FILENAMES=/usr/share/vulkan/icd.d/lvp_icd.json \
//          node run-check.cjs MODEL_DIR [gpubuf]
// With `gpubuf` the present outputs stay in GPU buffers (preferredOutputLocation) and are fed back.
// Not part of the test suite (packages/backend-node/src/execution-providers.test.ts is).
const path = require('node:path');
const ort = require(require.resolve('onnxruntime-node', { paths: [process.cwd(), path.join(__dirname, '../../..')] }));
const dir = process.argv[2] || '.';
const keepOnGpu = process.argv[3] === 'gpubuf';
function pseudoRandom(seed, count) {
  let state = seed;
  const values = new Float32Array(count);
  for (let i = 0; i < count; i++) {
    state = (state * 1103515245 + 12345) % 2147483648;
    values[i] = state / 2147483648 - 0.5;
  }
  return values;
}
function maxAbsDifference(left, right) {
  let max = 0;
  for (let i = 0; i < left.length; i++) max = Math.max(max, Math.abs(left[i] - right[i]));
  return max;
}
(async () => {
  const started = Date.now();
  let worst = 0;
  const report = (what, difference) => {
    worst = Math.max(worst, difference);
    console.log(what, 'max |webgpu − cpu| =', difference);
  };
  const model = (name) => path.join(dir, name);
  const matmulCpu = await ort.InferenceSession.create(model('matmul-add.onnx'), { executionProviders: ['cpu'] });
  const matmulGpu = await ort.InferenceSession.create(model('matmul-add.onnx'), { executionProviders: ['webgpu'] });
  const x = new ort.Tensor('float32', pseudoRandom(1, 24), [3, 8]);
  report('matmul-add', maxAbsDifference((await matmulCpu.run({ x })).y.data, (await matmulGpu.run({ x })).y.data));

  const H = 128, KV = 64, kvHeads = 2, d = 32;
  const feeds = (T, past, pastKey, pastValue, seed) => ({
    query: new ort.Tensor('float32', pseudoRandom(seed, T * H), [1, T, H]),
    key: new ort.Tensor('float32', pseudoRandom(seed + 1, T * KV), [1, T, KV]),
    value: new ort.Tensor('float32', pseudoRandom(seed + 2, T * KV), [1, T, KV]),
    past_key: pastKey ?? new ort.Tensor('float32', new Float32Array(0), [1, kvHeads, 0, d]),
    past_value: pastValue ?? new ort.Tensor('float32', new Float32Array(0), [1, kvHeads, 0, d]),
    seqlens_k: new ort.Tensor('int32', Int32Array.from([past + T - 1]), [1]),
    total_sequence_length: new ort.Tensor('int32', Int32Array.from([past + T]), []),
  });
  const gqaCpu = await ort.InferenceSession.create(model('gqa.onnx'), { executionProviders: ['cpu'] });
  const placement = keepOnGpu ? { preferredOutputLocation: { attn: 'cpu', present_key: 'gpu-buffer', present_value: 'gpu-buffer' } } : {};
  const gqaGpu = await ort.InferenceSession.create(model('gqa.onnx'), { executionProviders: ['webgpu'], ...placement });
  let cpuOut = await gqaCpu.run(feeds(5, 0, null, null, 10));
  let gpuOut = await gqaGpu.run(feeds(5, 0, null, null, 10)); // fetch all outputs, or the placement is ignored
  report(`gqa prefill (present on ${gpuOut.present_key.location})`, maxAbsDifference(cpuOut.attn.data, gpuOut.attn.data));
  for (let step = 0; step < 3; step++) {
    const cpuNext = await gqaCpu.run(feeds(1, 5 + step, cpuOut.present_key, cpuOut.present_value, 20 + step));
    const gpuNext = await gqaGpu.run(feeds(1, 5 + step, gpuOut.present_key, gpuOut.present_value, 20 + step));
    report(`gqa decode ${step} (present dims ${gpuNext.present_key.dims})`, maxAbsDifference(cpuNext.attn.data, gpuNext.attn.data));
    if (keepOnGpu) {
      gpuOut.present_key.dispose(); // consumed; never getData() a gpu-buffer tensor: it aborts the process
      gpuOut.present_value.dispose();
    }
    cpuOut = cpuNext;
    gpuOut = gpuNext;
  }
  console.log(`worst ${worst}; ${worst < 1e-3 ? 'OK' : 'MISMATCH'} within 1e-3; ${Date.now() - started} ms`);
  process.exit(worst < 1e-3 ? 0 : 1);
})().catch((error) => {
  console.error('webgpu check failed:', error.message);
  process.exit(2);
});
