// Kineto's service worker: keeps the app, its modules, the wasm and the weights so the page works
// offline. Code is network-first (fresh when online, cached when not); weights are cache-first and
// refreshed in the background. A weights file that fails the engine's checksum is deleted by the page.
const CACHE = 'kineto-v1';
const SHELL = [
  './', 'style.css', 'icon.svg', 'app.js', 'export.js', 'kineto.js', 'kineto-request.js', 'kineto-engine.js',
  'worker.js', 'app/vocab.js', 'app/settings.js', 'app/progress.js', 'app/player.js', 'app/player-controls.js',
  'app/history.js', 'app/share.js', 'app/offline.js',
  'vendor/gifenc.js', 'vendor/fflate.js', 'vendor/mediabunny.js',
];
// Engine builds: the page picks one at run time, so all are kept; absent ones are skipped.
const ENGINE = [
  'wasm/kineto-simd-mt.js', 'wasm/kineto-simd-mt.wasm', 'wasm/kineto-simd-mt.worker.js',
  'wasm/kineto-simd.js', 'wasm/kineto-simd.wasm', 'wasm/kineto-base.js', 'wasm/kineto-base.wasm',
  'wasm/kineto-world.kin',
];

const isWeights = (url) => url.pathname.endsWith('.kin');

// Fetches and stores urls; with onlyMissing, those already cached are left as they are.
async function keep(cache, urls, onlyMissing = false) {
  await Promise.all(urls.map(async (url) => {
    try {
      if (onlyMissing && await cache.match(url)) return;
      const response = await fetch(url, { cache: 'no-cache' });
      if (response.ok) await cache.put(url, response);
    } catch { /* offline or absent: cached later when fetched */ }
  }));
}

self.addEventListener('install', (event) => {
  event.waitUntil((async () => {
    const cache = await caches.open(CACHE);
    await cache.addAll(SHELL.filter((f) => f !== 'icon.svg'));
    await keep(cache, ['icon.svg', ...ENGINE].map((f) => new URL(f, self.registration.scope).href));
    await self.skipWaiting();
  })());
});

self.addEventListener('activate', (event) => {
  event.waitUntil((async () => {
    for (const name of await caches.keys()) {
      if (name.startsWith('kineto-') && name !== CACHE) await caches.delete(name);
    }
    await self.clients.claim();
  })());
});

self.addEventListener('message', (event) => {
  if (event.data?.type !== 'keep') return;
  const scope = new URL(self.registration.scope);
  const urls = event.data.urls.filter((u) => new URL(u).origin === scope.origin);
  const done = caches.open(CACHE).then((cache) => keep(cache, urls, true))
    .finally(() => event.ports[0]?.postMessage('kept'));
  event.waitUntil(done);
});

self.addEventListener('fetch', (event) => {
  const { request } = event;
  const url = new URL(request.url);
  if (request.method !== 'GET' || url.origin !== self.location.origin) return;
  if (request.headers.has('range')) return;
  if (isWeights(url)) event.respondWith(cacheFirst(event, request));
  else event.respondWith(networkFirst(request));
});

// Page loads are stored under one key (the scope, which serves index.html), whatever the query or hash.
function cacheKey(request) {
  return request.mode === 'navigate' ? self.registration.scope : request.url;
}

async function networkFirst(request) {
  const cache = await caches.open(CACHE);
  try {
    const response = await fetch(request);
    if (response.ok && response.type === 'basic') await cache.put(cacheKey(request), response.clone());
    return response;
  } catch (error) {
    const cached = await cache.match(cacheKey(request));
    if (cached) return cached;
    throw error;
  }
}

async function cacheFirst(event, request) {
  const cache = await caches.open(CACHE);
  const cached = await cache.match(request);
  const refresh = fetch(request, { cache: 'no-cache' }).then(async (response) => {
    if (response.ok && response.type === 'basic') await cache.put(request, response.clone());
    return response;
  });
  if (cached) {
    event.waitUntil(refresh.catch(() => {}));
    return cached;
  }
  return refresh;
}
