// The offline page's service worker (shell {{ version }}). It keeps the page, its scripts, the
// assigned surveys, their blank paper forms and the public keys in Cache Storage, never an
// answer: answers are sealed in the page before anything is stored. Uploads, tokens and sign-out always go to the network.
const CACHE = "offline-shell-{{ version }}";
const SHELL = {{ shell | tojson }};
const FRESH_FIRST = new Set([SHELL[0], SHELL[1]]);  // the page and bundle.json
// The assigned surveys' paper forms (blank forms, as printed): the page fetches them through
// this worker after each fresh bundle.json, which keeps the last good copy of each.
const PAPER = {{ paper_prefix | tojson }};

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(CACHE).then((cache) => cache.addAll(SHELL)).then(() => self.skipWaiting()));
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches.keys()
      // Earlier shells only: the page's own cache of replaced survey versions stays.
      .then((names) => names.filter((n) => n.startsWith("offline-shell-") && n !== CACHE))
      .then((names) => Promise.all(names.map((n) => caches.delete(n))))
      .then(() => self.clients.claim()),
  );
});

async function freshFirst(request) {
  const cache = await caches.open(CACHE);
  try {
    const response = await fetch(request, { redirect: "manual" });
    // A sign-in redirect or an error is not what the page needs offline: keep the last good one.
    if (response.ok && response.type === "basic") {
      await cache.put(request, response.clone());
      return response;
    }
    return (await cache.match(request)) || response;
  } catch (error) {
    const cached = await cache.match(request);
    if (cached) {
      return cached;
    }
    throw error;
  }
}

async function cacheFirst(request) {
  const cached = await caches.match(request);
  return cached || fetch(request);
}

self.addEventListener("fetch", (event) => {
  const url = new URL(event.request.url);
  if (event.request.method !== "GET" || url.origin !== self.location.origin) {
    return;
  }
  const path = url.pathname;
  if (FRESH_FIRST.has(path)) {
    event.respondWith(freshFirst(path));
  } else if (path.startsWith(PAPER)) {
    event.respondWith(freshFirst(path + url.search)); // each language is its own entry
  } else if (SHELL.includes(path)) {
    event.respondWith(cacheFirst(path));
  }
});
