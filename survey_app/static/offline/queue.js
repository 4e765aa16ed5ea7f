// The device's queue of sealed responses, in IndexedDB. Each record holds only what the upload
// needs: the random response id, survey id and version, the coarse period and the sealed blob
// (base64). No answer, site, language or exact time is ever written here in the clear.

const DATABASE = "offline-queue";
const STORE = "sealed";

function request(operation) {
  return new Promise((resolve, reject) => {
    operation.onsuccess = () => resolve(operation.result);
    operation.onerror = () => reject(operation.error);
  });
}

let opened = null;

function database() {
  if (!opened) {
    const opening = indexedDB.open(DATABASE, 1);
    opening.onupgradeneeded = () => {
      opening.result.createObjectStore(STORE, { keyPath: "id" });
    };
    opened = request(opening);
  }
  return opened;
}

async function store(mode) {
  const db = await database();
  return db.transaction(STORE, mode).objectStore(STORE);
}

export async function add(record) {
  await request((await store("readwrite")).put(record));
}

export async function all() {
  return request((await store("readonly")).getAll());
}

export async function remove(ids) {
  const records = await store("readwrite");
  await Promise.all(ids.map((id) => request(records.delete(id))));
}

export async function refuse(id, reason) {
  const records = await store("readwrite");
  const record = await request(records.get(id));
  if (record) {
    record.refused = reason;
    await request(records.put(record));
  }
}

export async function clear() {
  await request((await store("readwrite")).clear());
}
