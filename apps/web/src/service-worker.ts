// The service worker that lets a loaded page start offline: it keeps the page shell (index.html,
// the bundled scripts, onnxruntime-web's .wasm) in the Cache API. Installing it caches every file
// listed in shell-files.json (written by vite.config.ts at build time); afterwards the page itself
// is network-first (a new build is picked up when online) and the content-hashed bundle files are
// cache-first. Requests under tiny-tle/ pass through untouched: the model, tokenizer and profiles
// are cached by the page and its worker (cached-fetch.ts, @lora-tle/backend-web). Registered by
// main.ts in production builds only (not under `vite` dev, whose modules are not hashed).

interface ExtendableEventLike {
  waitUntil(work: Promise<unknown>): void;
}
interface FetchEventLike extends ExtendableEventLike {
  request: Request;
  respondWith(response: Promise<Response>): void;
}
interface ServiceWorkerScopeLike {
  registration: { scope: string };
  skipWaiting(): Promise<void>;
  clients: { claim(): Promise<void> };
  addEventListener(type: 'install' | 'activate', listener: (event: ExtendableEventLike) => void): void;
  addEventListener(type: 'fetch', listener: (event: FetchEventLike) => void): void;
}

export interface ShellFiles {
  files: string[]; // relative to the scope; index.html is the page
}

const scope = self as unknown as ServiceWorkerScopeLike;
const SHELL_CACHE = 'lora-tle-shell-v1';

async function shellUrls(): Promise<string[]> {
  const response = await fetch(new URL('shell-files.json', scope.registration.scope), { cache: 'no-store' });
  const { files } = (await response.json()) as ShellFiles;
  return files.map((file) => new URL(file, scope.registration.scope).href);
}

scope.addEventListener('install', (event) => {
  event.waitUntil(
    (async () => {
      const cache = await caches.open(SHELL_CACHE);
      await cache.addAll(await shellUrls());
      await scope.skipWaiting();
    })(),
  );
});

scope.addEventListener('activate', (event) => {
  event.waitUntil(
    (async () => {
      // drop bundle files of older builds
      const keep = new Set(await shellUrls().catch(() => null));
      const cache = await caches.open(SHELL_CACHE);
      if (keep.size > 0) for (const request of await cache.keys()) if (!keep.has(request.url)) await cache.delete(request);
      await scope.clients.claim();
    })(),
  );
});

async function networkFirst(request: Request): Promise<Response> {
  const cache = await caches.open(SHELL_CACHE);
  try {
    const response = await fetch(request);
    if (response.ok) await cache.put(request.url.split('?')[0] as string, response.clone());
    return response;
  } catch (error) {
    const cached = (await cache.match(request.url.split('?')[0] as string)) ?? (request.mode === 'navigate' ? await cache.match(new URL('index.html', scope.registration.scope).href) : undefined);
    if (cached) return cached;
    throw error;
  }
}

async function cacheFirst(request: Request): Promise<Response> {
  const cache = await caches.open(SHELL_CACHE);
  const cached = await cache.match(request);
  if (cached) return cached;
  const response = await fetch(request);
  if (response.ok) await cache.put(request, response.clone());
  return response;
}

scope.addEventListener('fetch', (event) => {
  const { request } = event;
  const url = new URL(request.url);
  if (request.method !== 'GET' || !url.href.startsWith(scope.registration.scope)) return;
  const path = url.href.slice(scope.registration.scope.length);
  if (path.startsWith('tiny-tle/')) return; // model files: cached by the page (see the header)
  const hashed = path.startsWith('assets/');
  event.respondWith(hashed ? cacheFirst(request) : networkFirst(request));
});
