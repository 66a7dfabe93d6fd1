// Service worker registration (web/sw.js caches the app, wasm and weights for offline use) and
// removal of a cached weights file that failed its checksum.
export async function registerOffline() {
  if (!('serviceWorker' in navigator)) return null;
  try {
    return await navigator.serviceWorker.register(new URL('../sw.js', import.meta.url), { scope: new URL('../', import.meta.url).href });
  } catch (error) {
    console.warn('Kineto works online only: the service worker did not register:', error.message);
    return null;
  }
}

// Asks the service worker to keep these URLs (e.g. weights chosen with ?weights=) for offline use.
export async function keepOffline(urls) {
  if (!('serviceWorker' in navigator)) return;
  const registration = await navigator.serviceWorker.ready;
  registration.active?.postMessage({ type: 'keep', urls: urls.map((u) => new URL(u, location.href).href) });
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
