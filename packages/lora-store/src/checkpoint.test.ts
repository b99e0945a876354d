import { cp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { openCheckpoint } from './checkpoint.js';
import { urlFileSet } from './file-set.js';
import { expectedLlamaWeights } from './llama-weights.js';
import { loadCheckpoint } from './node/checkpoint-dir.js';
import { writeSafetensorsFile } from './node/safetensors-file.js';
import { withTempDir } from './test-support.js';

const fixtures = fileURLToPath(new URL('../test-fixtures/', import.meta.url));

async function editJson(path: string, edit: (json: Record<string, any>) => void): Promise<void> {
  const json = JSON.parse(await readFile(path, 'utf8'));
  edit(json);
  await writeFile(path, JSON.stringify(json));
}

describe('loadCheckpoint', () => {
  it('opens a single-file and a sharded save of the same model with identical tensors', async () => {
    const single = await loadCheckpoint(`${fixtures}tiny-llama`);
    const sharded = await loadCheckpoint(`${fixtures}tiny-llama-sharded`);
    expect(sharded.files).toHaveLength(3);
    expect(new Set(sharded.names())).toEqual(new Set(single.names()));
    expect(single.names()).toHaveLength(expectedLlamaWeights(single.architecture).size);
    for (const name of ['model.layers.1.self_attn.k_proj.weight', 'lm_head.weight', 'model.norm.weight']) {
      expect(await sharded.readTensor(name)).toEqual(await single.readTensor(name));
    }
    expect(single.info('model.layers.0.self_attn.k_proj.weight')).toMatchObject({ dtype: 'F32', shape: [8, 16], file: 'model.safetensors' });
    await expect(single.readTensor('nope')).rejects.toMatchObject({ code: 'E_TENSOR_MISSING' });
    await single.close();
    await sharded.close();
  });

  it('refuses a shard index that lists a missing shard, or a tensor its shard lacks', async () => {
    await withTempDir(async (dir) => {
      await cp(`${fixtures}tiny-llama-sharded`, dir, { recursive: true });
      await editJson(join(dir, 'model.safetensors.index.json'), (index) => {
        index.weight_map['model.extra.weight'] = 'model-00001-of-00003.safetensors';
      });
      await expect(loadCheckpoint(dir)).rejects.toMatchObject({ code: 'E_CHECKPOINT_SHARDS', message: expect.stringMatching(/model\.extra\.weight/) });
      await rm(join(dir, 'model-00002-of-00003.safetensors'));
      await expect(loadCheckpoint(dir)).rejects.toMatchObject({ code: 'E_CHECKPOINT_SHARDS', message: expect.stringMatching(/00002/) });
      await editJson(join(dir, 'model.safetensors.index.json'), (index) => {
        index.weight_map['x'] = '../outside.safetensors';
      });
      await expect(loadCheckpoint(dir)).rejects.toMatchObject({ code: 'E_CHECKPOINT_SHARDS' });
    });
  });

  it('refuses weights that do not match config.json', async () => {
    await withTempDir(async (dir) => {
      await cp(`${fixtures}tiny-llama`, dir, { recursive: true });
      await editJson(join(dir, 'config.json'), (config) => (config.num_hidden_layers = 3));
      await expect(loadCheckpoint(dir)).rejects.toMatchObject({ code: 'E_CHECKPOINT_WEIGHTS', message: expect.stringMatching(/layers\.2\..*missing/) });
      await editJson(join(dir, 'config.json'), (config) => ((config.num_hidden_layers = 2), (config.intermediate_size = 20)));
      await expect(loadCheckpoint(dir)).rejects.toMatchObject({ code: 'E_CHECKPOINT_WEIGHTS', message: expect.stringMatching(/\[24,16\].*\[20,16\]/) });
      const unchecked = await loadCheckpoint(dir, { checkWeights: false });
      expect(unchecked.architecture.intermediateSize).toBe(20);
      await unchecked.close();
    });
  });

  it('accepts a tied checkpoint without lm_head.weight', async () => {
    await withTempDir(async (dir) => {
      const config = JSON.parse(await readFile(`${fixtures}tiny-llama/config.json`, 'utf8'));
      const source = await loadCheckpoint(`${fixtures}tiny-llama`);
      const tensors = [];
      for (const name of source.names().filter((name) => name !== 'lm_head.weight')) {
        tensors.push({ name, shape: source.info(name).shape, data: await source.readTensor(name) });
      }
      await source.close();
      await writeSafetensorsFile(join(dir, 'model.safetensors'), tensors);
      await writeFile(join(dir, 'config.json'), JSON.stringify({ ...config, tie_word_embeddings: true }));
      const tied = await loadCheckpoint(dir);
      expect(tied.architecture.tieWordEmbeddings).toBe(true);
      expect(tied.has('lm_head.weight')).toBe(false);
      await tied.close();
      await writeFile(join(dir, 'config.json'), JSON.stringify(config));
      await expect(loadCheckpoint(dir)).rejects.toMatchObject({ code: 'E_CHECKPOINT_WEIGHTS', message: expect.stringMatching(/lm_head/) });
    });
  });

  it('refuses pickle-only checkpoints and directories without config.json', async () => {
    await withTempDir(async (dir) => {
      await expect(loadCheckpoint(dir)).rejects.toMatchObject({ code: 'E_NOT_FOUND', message: expect.stringMatching(/config\.json/) });
      await cp(`${fixtures}tiny-llama/config.json`, join(dir, 'config.json'));
      await writeFile(join(dir, 'pytorch_model.bin'), 'not read');
      await expect(loadCheckpoint(dir)).rejects.toMatchObject({ code: 'E_NOT_FOUND', message: expect.stringMatching(/pickle.*safetensors/) });
    });
  });

  it('opens the sharded checkpoint over HTTP Range requests (browser path)', async () => {
    const dir = `${fixtures}tiny-llama-sharded`;
    const fileNames = new Set(await readdir(dir));
    const fakeFetch = async (url: string | URL | Request, init?: RequestInit): Promise<Response> => {
      const name = String(url).replace('http://127.0.0.1/m/', '');
      if (!fileNames.has(name)) return new Response(null, { status: 404 });
      const bytes = new Uint8Array(await readFile(join(dir, name)));
      if (init?.method === 'HEAD') return new Response(null, { status: 200, headers: { 'content-length': String(bytes.length) } });
      const match = /^bytes=(\d+)-(\d+)$/.exec(new Headers(init?.headers).get('range') ?? '');
      if (!match) return new Response(bytes.buffer as ArrayBuffer, { status: 200 });
      return new Response(bytes.slice(Number(match[1]), Number(match[2]) + 1).buffer as ArrayBuffer, { status: 206 });
    };
    const remote = await openCheckpoint(urlFileSet('http://127.0.0.1/m', { fetch: fakeFetch as typeof fetch }));
    const local = await loadCheckpoint(dir);
    expect(await remote.readTensor('model.embed_tokens.weight')).toEqual(await local.readTensor('model.embed_tokens.weight'));
    await local.close();
  });
});
