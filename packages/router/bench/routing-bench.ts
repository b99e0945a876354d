// Routing cost benchmark: hashing-embed a ~300-token context and route it (paper strategy, 4
// adapters), and route a growing context token by token (incremental vs full re-embed at 30 and
// 300 tokens), measured in one run. Performance claims about routing live here, not in unit tests.
// Run: node --conditions=source --import tsx packages/router/bench/routing-bench.ts

import type { Embedder } from '@lora-tle/spec';
import { buildProfile, createHashingEmbedder, createRouter, fitHashingEmbedder, type HashingEmbedder } from '@lora-tle/router';

const CONTEXT_CHARS = 1300; // ≈ 300 Llama tokens of English prose (≈ 4.3 chars per token)
const sentence = 'Natalia sold clips to 48 of her friends in April, and then she sold half as many clips in May. ';
const context = sentence.repeat(Math.ceil(CONTEXT_CHARS / sentence.length)).slice(0, CONTEXT_CHARS);

function timePerCall(label: string, calls: number, run: () => unknown): number {
  for (let i = 0; i < Math.min(200, calls); i++) run(); // warm up the JIT
  const start = performance.now();
  for (let i = 0; i < calls; i++) run();
  const milliseconds = (performance.now() - start) / calls;
  console.log(`${label.padEnd(52)} ${milliseconds.toFixed(4)} ms/call`);
  return milliseconds;
}

async function main(): Promise<void> {
  const embedder = createHashingEmbedder();
  const adapters = ['math', 'science', 'code', 'reading'];
  const profiles = await Promise.all(adapters.map((adapter, i) => buildProfile({ adapter, embedder, texts: [`${adapter} example ${i}`, context.slice(i * 100)] })));
  // the same context every call: route through the full embedding (the incremental path would see no change)
  const router = createRouter({ embedder: fullEmbeddingOnly(embedder), profiles, strategy: 'paper', schedule: 'token' });

  const embed = timePerCall(`hashing embedOne (${CONTEXT_CHARS} chars)`, 2000, () => embedder.embedOne(context));
  const start = performance.now();
  const routes = 2000;
  for (let step = 0; step < routes; step++) await router.route({ text: context, tokenIds: [], step });
  const route = (performance.now() - start) / routes;
  console.log(`${'router.route (embed + paper over 4 profiles)'.padEnd(52)} ${route.toFixed(4)} ms/call`);
  console.log(`embedding share of a route: ${((100 * embed) / route).toFixed(0)}%`);

  // fitted: one table lookup per distinct feature on top of the unfitted embedding
  const fitted = fitHashingEmbedder(Object.fromEntries(adapters.map((adapter, i) => [adapter, [`${adapter} example ${i}`, context.slice(i * 100)]])));
  const fittedEmbed = timePerCall(`fitted hashing embedOne (${CONTEXT_CHARS} chars)`, 2000, () => fitted.embedOne(context));
  console.log(`fitted / unfitted embed: ${(fittedEmbed / embed).toFixed(2)}×`);

  // token-level routing of a growing context: ms per route at context 30 and 300 tokens
  const fittedProfiles = await Promise.all(adapters.map((adapter, i) => buildProfile({ adapter, embedder: fitted, texts: [`${adapter} example ${i}`, context.slice(i * 100)] })));
  const fullOnly = fullEmbeddingOnly(fitted);
  for (const [label, routingEmbedder] of [['incremental', fitted], ['full re-embed', fullOnly]] as Array<[string, HashingEmbedder | Embedder]>) {
    const growing = createRouter({ embedder: routingEmbedder, profiles: fittedProfiles, strategy: 'paper', schedule: 'token' });
    const perRoute = async (tokens: number): Promise<number> => {
      const steps = 64;
      let elapsed = 0;
      for (let round = 0; round < 20; round++) {
        await growing.route({ text: growingText(tokens), tokenIds: [], step: 0 }); // a new context (rebuild), untimed
        const start = performance.now();
        for (let step = 1; step <= steps; step++) await growing.route({ text: growingText(tokens + step), tokenIds: [], step });
        elapsed += performance.now() - start;
      }
      return elapsed / (20 * steps);
    };
    await perRoute(30); // warm up
    const short = await perRoute(30);
    const long = await perRoute(300);
    console.log(`${`router.route, ${label}, fitted, growing context`.padEnd(52)} ${short.toFixed(4)} ms at 30 tokens, ${long.toFixed(4)} ms at 300 tokens (${(long / short).toFixed(2)}×)`);
  }
}

/** The embedder without createIncremental: the Router then embeds the whole context every route. */
function fullEmbeddingOnly(embedder: HashingEmbedder): Embedder {
  return { id: embedder.id, settings: embedder.settings, dimension: embedder.dimension, embed: (texts) => embedder.embed(texts) };
}

/** The first `tokens` "tokens" (≈ 4.3 characters each) of a long English context. */
function growingText(tokens: number): string {
  return longContext.slice(0, Math.round(tokens * 4.3));
}
const longContext = sentence.repeat(Math.ceil((400 * 4.3) / sentence.length));

void main();
