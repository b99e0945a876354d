// Benchmark (not a test): inspecting a 2 GB safetensors file must not load it. Creates a sparse
// file in /tmp (header declares ~2 GB of tensors, the data is a hole from ftruncate), reads the
// header and one 4 MB tensor, prints peak RSS. Target: < 150 MB.
//   node --conditions=source --import tsx packages/lora-store/bench/inspect-rss.ts

import { open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSafetensorsFile } from '../src/node.js';

const GIB = 1024 ** 3;

async function makeSparseFile(path: string): Promise<number> {
  const tensors: Record<string, unknown> = { __metadata__: { format: 'pt' } };
  let offset = 0;
  const add = (name: string, shape: number[]) => {
    const bytes = shape.reduce((product, dimension) => product * dimension, 4);
    tensors[name] = { dtype: 'F32', shape, data_offsets: [offset, offset + bytes] };
    offset += bytes;
  };
  add('model.embed_tokens.weight', [32000, 4096]); // 500 MiB
  for (let layer = 0; offset < 2 * GIB - 64 * 1024 ** 2; layer++) add(`model.layers.${layer}.mlp.up_proj.weight`, [11008, 4096]);
  add('model.norm.weight', [1024, 1024]); // the 4 MiB tensor we read
  const json = new TextEncoder().encode(JSON.stringify(tensors));
  const headerLength = Math.ceil(json.length / 8) * 8;
  const head = new Uint8Array(8 + headerLength).fill(0x20, 8);
  new DataView(head.buffer).setBigUint64(0, BigInt(headerLength), true);
  head.set(json, 8);
  const handle = await open(path, 'w');
  await handle.write(head, 0, head.length, 0);
  await handle.truncate(head.length + offset); // sparse: no data blocks written
  await handle.close();
  return head.length + offset;
}

const path = join(tmpdir(), `lora-store-inspect-rss-${process.pid}.safetensors`);
try {
  const size = await makeSparseFile(path);
  const started = performance.now();
  const reader = await openSafetensorsFile(path);
  const values = await reader.readTensor('model.norm.weight');
  await reader.close();
  const elapsed = performance.now() - started;
  const peakRssMb = process.resourceUsage().maxRSS / 1024; // maxRSS is in KiB
  console.log(`file ${(size / GIB).toFixed(2)} GiB, ${reader.names().length} tensors, read ${values.length} floats in ${elapsed.toFixed(1)} ms`);
  console.log(`peak RSS ${peakRssMb.toFixed(1)} MB (limit 150 MB): ${peakRssMb < 150 ? 'OK' : 'TOO HIGH'}`);
  process.exitCode = peakRssMb < 150 ? 0 : 1;
} finally {
  await rm(path, { force: true });
}
