// The page: starts the generation worker, shows load progress, backend and model, and lets the
// user run a prompt under a routing mode; tokens stream in coloured by their dominant adapter
// (hover: the full mixture), a stacked-area chart shows the weights per token, and the stats line
// shows tokens/s. State for the browser test is published on window.loraTle (PageState).
// Not the model code: that runs in generation-worker.ts.

import { adapterColour, BASE_COLOUR, describeMixture, dominantAdapter, withAlpha } from './adapter-colours.js';
import type { SamplePrompt } from './asset-index.js';
import type { DoneMessage, GenerateMessage, PageToWorker, ReadyMessage, WorkerToPage } from './protocol.js';
import { renderWeightChart } from './weight-chart.js';

export interface RunRecord {
  runId: number;
  prompt: string;
  mode: string;
  routingWindow: number | null;
  tokenIds: number[];
  texts: string[]; // per-token text deltas
  weights: number[][]; // per-token mixture, adapter order
  heartbeatAtTokens: number[]; // the heartbeat counter when each token was rendered
  done: DoneMessage | null;
  error: string | null;
}

export interface PageState {
  ready: boolean;
  loadError: string | null;
  device: string | null;
  fixture: string | null;
  adapters: string[];
  samples: SamplePrompt[];
  filesFromCache: string[];
  filesDownloaded: string[];
  loadPhases: string[];
  /** Incremented by a main-thread timer every 10 ms: it stalls when the page freezes. */
  heartbeat: number;
  runs: RunRecord[];
}

declare global {
  interface Window {
    loraTle: PageState;
  }
}

const byId = <T extends HTMLElement>(id: string): T => document.getElementById(id) as T;
const ui = {
  device: byId('device'),
  fixture: byId('fixture'),
  progress: byId<HTMLProgressElement>('progress'),
  status: byId('status'),
  controls: byId<HTMLFieldSetElement>('controls'),
  sample: byId<HTMLSelectElement>('sample'),
  prompt: byId<HTMLTextAreaElement>('prompt'),
  mode: byId<HTMLSelectElement>('mode'),
  everyK: byId<HTMLInputElement>('every-k'),
  window: byId<HTMLInputElement>('window'),
  temperature: byId<HTMLInputElement>('temperature'),
  seed: byId<HTMLInputElement>('seed'),
  maxTokens: byId<HTMLInputElement>('max-tokens'),
  generate: byId<HTMLButtonElement>('generate'),
  stop: byId<HTMLButtonElement>('stop'),
  legend: byId('legend'),
  output: byId('output'),
  stats: byId('stats'),
  chart: document.getElementById('chart') as unknown as SVGSVGElement,
};

const state: PageState = {
  ready: false,
  loadError: null,
  device: null,
  fixture: null,
  adapters: [],
  samples: [],
  filesFromCache: [],
  filesDownloaded: [],
  loadPhases: [],
  heartbeat: 0,
  runs: [],
};
window.loraTle = state;
setInterval(() => state.heartbeat++, 10);

const params = new URLSearchParams(location.search);
const worker = new Worker(new URL('./generation-worker.ts', import.meta.url), { type: 'module' });
const send = (message: PageToWorker): void => worker.postMessage(message);
let current: RunRecord | null = null; // the run in progress
let shownRun: RunRecord | null = null; // the run on screen (the last one started)
let chartQueued = false;

// Redraws at most every 40 ms while tokens stream (a timer, not requestAnimationFrame: rAF stops in
// background tabs, and the chart should be current when the user comes back).
function queueChart(): void {
  if (chartQueued) return;
  chartQueued = true;
  setTimeout(drawChart, 40);
}

function drawChart(): void {
  chartQueued = false;
  renderWeightChart(ui.chart, state.adapters, shownRun?.weights ?? []);
}

function onReady(message: ReadyMessage): void {
  Object.assign(state, { device: message.device, fixture: message.fixture, adapters: message.adapters, samples: message.samples });
  state.filesFromCache = message.filesFromCache;
  state.filesDownloaded = message.filesDownloaded;
  ui.device.textContent = message.device;
  ui.fixture.textContent = message.fixture === 'synthetic' ? 'synthetic stand-in (random weights)' : 'tiny-tle';
  ui.progress.value = 1;
  const source = message.filesDownloaded.length === 0 ? 'all files from the browser cache' : `${message.filesDownloaded.length} files downloaded, ${message.filesFromCache.length} from cache`;
  ui.status.textContent = `ready in ${(message.loadMs / 1000).toFixed(1)} s (${source})`;

  ui.sample.replaceChildren(...message.samples.map((sample, index) => new Option(`${sample.task}: ${sample.prompt.replace(/\s+/g, ' ').slice(0, 90)}…`, String(index))));
  ui.prompt.value = message.samples[0]?.prompt ?? '';
  const modes = [
    ['token', 'token (route every token)'],
    ['every', 'every:k tokens'],
    ['prompt', 'prompt (route once)'],
    ['base', 'base model (no adapter)'],
    ...message.adapters.map((name) => [`adapter:${name}`, `single adapter: ${name}`]),
    ['uniform', 'uniform mix'],
  ];
  ui.mode.replaceChildren(...modes.map(([value, label]) => new Option(label, value)));
  ui.legend.replaceChildren(
    ...message.adapters.map((name, index) => {
      const item = document.createElement('span');
      item.style.setProperty('--colour', adapterColour(index));
      item.textContent = name;
      return item;
    }),
  );
  renderWeightChart(ui.chart, state.adapters, []);
  ui.controls.disabled = false;
  state.ready = true;
}

function onToken(run: RunRecord, step: number, tokenId: number, text: string, weights: number[]): void {
  run.tokenIds.push(tokenId);
  run.texts.push(text);
  run.weights.push(weights);
  run.heartbeatAtTokens.push(state.heartbeat);
  const dominant = dominantAdapter(weights);
  const colour = dominant === -1 ? BASE_COLOUR : adapterColour(dominant);
  const span = document.createElement('span');
  span.className = 'token';
  span.textContent = text;
  span.style.background = withAlpha(colour, dominant === -1 ? 0.25 : 0.2 + 0.6 * (weights[dominant] as number));
  span.title = `token ${step + 1} · id ${tokenId} · ${JSON.stringify(text)}\n${describeMixture(state.adapters, weights)}`;
  span.dataset['adapter'] = dominant === -1 ? 'base' : (state.adapters[dominant] as string);
  ui.output.append(span);
  ui.stats.textContent = `${run.tokenIds.length} tokens…`;
  queueChart();
}

function onDone(run: RunRecord, message: DoneMessage): void {
  run.done = message;
  drawChart();
  ui.stats.textContent =
    `${message.tokenIds.length} token${message.tokenIds.length === 1 ? '' : 's'} · ${message.tokensPerSecond.toFixed(1)} tokens/s on ${state.device} · ` +
    `model ${message.modelMs.toFixed(0)} ms, routing ${message.routingMs.toFixed(0)} ms · prompt ${message.promptTokens} tokens · finished: ${message.finishReason}`;
  finishRun();
}

function finishRun(): void {
  current = null;
  ui.generate.disabled = false;
  ui.stop.disabled = true;
}

worker.addEventListener('message', (event: MessageEvent<WorkerToPage>) => {
  const message = event.data;
  if (message.type === 'progress') {
    if (!state.loadPhases.includes(message.phase)) state.loadPhases.push(message.phase);
    ui.status.textContent = `${message.phase} ${message.total > 0 ? `${Math.round((100 * message.done) / message.total)}%` : ''}`;
    if (message.total > 0) ui.progress.value = message.done / message.total;
    return;
  }
  if (message.type === 'ready') return onReady(message);
  if (message.type === 'error' && message.runId === null) {
    state.loadError = message.message;
    ui.status.textContent = message.message;
    ui.status.className = 'error';
    return;
  }
  const run = state.runs.find((candidate) => candidate.runId === message.runId);
  if (!run) return;
  if (message.type === 'token') onToken(run, message.step, message.tokenId, message.text, message.weights);
  if (message.type === 'done') onDone(run, message);
  if (message.type === 'error') {
    run.error = message.message;
    ui.stats.textContent = message.message;
    ui.stats.className = 'error';
    finishRun();
  }
});

function startRun(): void {
  const mode = ui.mode.value === 'every' ? `every:${Math.max(1, Math.floor(Number(ui.everyK.value)) || 1)}` : ui.mode.value;
  const routingWindow = Math.floor(Number(ui.window.value)); // 0 or not a number: the whole text
  const request: GenerateMessage = {
    type: 'generate',
    runId: state.runs.length + 1,
    prompt: ui.prompt.value,
    mode,
    routingWindow: routingWindow >= 1 ? routingWindow : null,
    maxNewTokens: Math.max(1, Math.floor(Number(ui.maxTokens.value)) || 1),
    temperature: Math.max(0, Number(ui.temperature.value) || 0),
    seed: Math.max(0, Math.floor(Number(ui.seed.value)) || 0),
  };
  const run: RunRecord = { runId: request.runId, prompt: request.prompt, mode, routingWindow: request.routingWindow, tokenIds: [], texts: [], weights: [], heartbeatAtTokens: [], done: null, error: null };
  state.runs.push(run);
  current = run;
  shownRun = run;
  const promptSpan = document.createElement('span');
  promptSpan.className = 'prompt';
  promptSpan.textContent = request.prompt;
  ui.output.replaceChildren(promptSpan);
  ui.stats.className = '';
  ui.stats.textContent = 'generating…';
  renderWeightChart(ui.chart, state.adapters, []);
  ui.generate.disabled = true;
  ui.stop.disabled = false;
  send(request);
}

ui.sample.addEventListener('change', () => {
  ui.prompt.value = state.samples[Number(ui.sample.value)]?.prompt ?? '';
});
ui.generate.addEventListener('click', startRun);
ui.stop.addEventListener('click', () => {
  if (current) send({ type: 'stop', runId: current.runId });
});

// Production builds keep the page shell for offline starts (service-worker.ts); `vite` dev does not.
// (MODE, not PROD: PROD follows NODE_ENV, which vitest sets to 'test' while the browser test builds.)
if (import.meta.env.MODE === 'production' && 'serviceWorker' in navigator && params.get('offline') !== 'no') {
  navigator.serviceWorker.register('./service-worker.js').catch((error: unknown) => console.warn(`lora-tle: no offline start (${String(error)})`));
}

const device = params.get('device');
send({
  type: 'load',
  assetsUrl: new URL(params.get('assets') ?? './tiny-tle/', location.href).href,
  device: device === 'wasm' || device === 'webgpu' || device === 'simd' ? device : 'auto',
});
