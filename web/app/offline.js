// Service worker registration (web/app/sw.js caches the page, the library, wasm and weights for
// offline use) and removal of a cached weights file that failed its checksum.
export async function registerOffline() {
  if (!('serviceWorker' in navigator)) return null;
  try {
    // Scope web/, not web/app/: the engine's worker (web/lib/worker.js) must be served by it too.
    // A scope above the script's folder needs the Service-Worker-Allowed header (serve.json).
    return await navigator.serviceWorker.register(new URL('sw.js', import.meta.url), { scope: new URL('../', import.meta.url).href });
  } catch (error) {
    console.warn('Kineto works online only: the service worker did not register:', error.message);
    return null;
  }
}

// Asks the service worker to keep these URLs (the weights in use, which may come from ?weights=)
// and resolves true once every one of them is in the cache.
export async function keepOffline(urls) {
  if (!('serviceWorker' in navigator)) return false;
  const registration = await navigator.serviceWorker.ready;
  const absolute = urls.map((u) => new URL(u, location.href).href);
  const reply = new MessageChannel();
  const kept = new Promise((resolve) => { reply.port1.onmessage = resolve; });
  registration.active.postMessage({ type: 'keep', urls: absolute }, [reply.port2]);
  await kept;
  const found = await Promise.all(absolute.map((u) => caches.match(u)));
  return found.every(Boolean);
}

// Deletes every cached weights file (*.kin) so the next load fetches a fresh copy.
export async function dropCachedWeights() {
  if (!('caches' in self)) return 0;
  let dropped = 0;
  for (const name of await caches.keys()) {
    if (!name.startsWith('kineto-')) continue;
    const cache = await caches.open(name);
    for (const request of await cache.keys()) {
      if (new URL(request.url).pathname.endsWith('.kin') && await cache.delete(request)) dropped++;
    }
  }
  return dropped;
}
