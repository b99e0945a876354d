// The browser page: loads a model pack with @lora-tle/backend-web (webgpu when the browser has it,
// else wasm; files cached with the Cache API), runs greedy decoding under a fixed adapter mix and
// shows device, load source and tokens. Publishes the result on window.loraTle for the browser
// test. Not yet the routing UI (needs engine, router and tokenizer wiring).

import { createWebBackend, type WebDevice } from '@lora-tle/backend-web';
import { mixCoefficients } from '@lora-tle/mixing';
import { isLoraTleError, type KvCache } from '@lora-tle/spec';

export interface PageResult {
  device: string;
  adapters: string[];
  tokens: number[];
  firstLogits: number[]; // logits of the prompt's last position
  loadPhases: string[];
  error?: string;
}

declare global {
  interface Window {
    loraTle?: PageResult | { error: string };
  }
}

function argmax(values: Float32Array): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) if ((values[i] as number) > (values[best] as number)) best = i;
  return best;
}

async function main(): Promise<void> {
  const params = new URLSearchParams(location.search);
  const packUrl = new URL(params.get('pack') ?? './pack/', location.href).href;
  const device = (params.get('device') ?? 'auto') as WebDevice;
  const status = document.getElementById('status') as HTMLElement;
  const bar = document.getElementById('progress') as HTMLProgressElement;
  const loadPhases: string[] = [];

  status.textContent = `loading ${packUrl}…`;
  const session = await createWebBackend({ device }).doLoad(packUrl, {
    onProgress: ({ phase, done, total }) => {
      if (!loadPhases.includes(phase)) loadPhases.push(phase);
      status.textContent = `${phase} ${total > 0 ? `${Math.round((100 * done) / total)}%` : ''}`;
      bar.value = total > 0 ? done / total : 0;
    },
  });
  const adapters = session.pack.adapters.map((adapter) => adapter.name);
  const weights = (params.get('weights') ?? adapters.map(() => 1 / adapters.length).join(',')).split(',').map(Number);
  const mix = [mixCoefficients(weights, session.pack.combination)];
  const prompt = Int32Array.from((params.get('prompt') ?? '1,5,9,13').split(',').map(Number));

  let output = await session.doStep({ inputIds: prompt, batchSize: 1, sequenceLength: prompt.length, mix, cache: null });
  const firstLogits = Array.from(output.logits);
  const tokens: number[] = [];
  let cache: KvCache = output.cache;
  for (let step = 0; step < Number(params.get('steps') ?? 8); step++) {
    const token = argmax(output.logits);
    tokens.push(token);
    output = await session.doStep({ inputIds: Int32Array.of(token), batchSize: 1, sequenceLength: 1, mix, cache });
    cache = output.cache;
  }
  cache.dispose();
  await session.dispose();

  const result: PageResult = { device: session.device, adapters, tokens, firstLogits, loadPhases };
  window.loraTle = result;
  status.textContent = `done on ${session.device}`;
  (document.getElementById('output') as HTMLElement).textContent =
    `adapters ${adapters.join(', ')} · weights ${weights.join(', ')}\nprompt ${Array.from(prompt).join(' ')}\ngreedy ${tokens.join(' ')}\nload: ${loadPhases.join(' → ')}`;
}

main().catch((error: unknown) => {
  const message = isLoraTleError(error) ? error.toLine() : String((error as Error)?.stack ?? error);
  window.loraTle = { error: message };
  (document.getElementById('status') as HTMLElement).textContent = message;
});
