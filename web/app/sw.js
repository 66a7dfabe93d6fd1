// Kineto's service worker: keeps the page, the library, the wasm and the weights so the page works
// offline. Code is network-first (fresh when online, cached when not); weights are cache-first and
// refreshed in the background. A weights file that fails the engine's checksum is deleted by the page.
// Its scope is web/ (see offline.js), so the engine's worker in web/lib/ is served by it too.

// sw-files.js is written by ./build.sh from the files present: self.KINETO_FILES, paths under web/.
importScripts('sw-files.js');

const CACHE = 'kineto-v1';

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

// The page and its code must all be kept for the worker to install; weights are kept when they can be.
self.addEventListener('install', (event) => {
  event.waitUntil((async () => {
    const cache = await caches.open(CACHE);
    const urls = self.KINETO_FILES.map((f) => new URL(f, self.registration.scope).href);
    await cache.addAll(urls.filter((u) => !isWeights(new URL(u))));
    await keep(cache, urls.filter((u) => isWeights(new URL(u))));
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

// A page load is stored under its path, whatever the query or hash.
function cacheKey(request) {
  if (request.mode !== 'navigate') return request.url;
  const url = new URL(request.url);
  return url.origin + url.pathname;
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
