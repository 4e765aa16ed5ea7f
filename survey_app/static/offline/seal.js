// Sealing a response in the browser: the project's envelope, format version 2, with WebCrypto
// only (X25519, HKDF-SHA256, AES-256-GCM). The layout is documented in survey_app/keys/sealing.py;
// tests/test_offline_sealing.py checks that blobs made here open in Python and that the fixed
// vectors agree byte for byte.
//
//   version (1) || key id (8) || ephemeral public key (32) || nonce (12) || ciphertext + tag
//   key = HKDF-SHA256(ikm = X25519(ephemeral, recipient), salt = ephemeral || recipient,
//                     info = "survey-app response v2", 32 bytes)
//   ad  = header || field(response id) || field(survey id) || field(survey version)
//   plaintext = payload || 0x80 || 0x00 * k
//
// The ephemeral private key is made non-extractable and dropped after one use.

const FORMAT_VERSION = 2;
const HKDF_INFO = new TextEncoder().encode("survey-app response v2");
const KEY_ID_SIZE = 8;
const X25519_SIZE = 32;
const NONCE_SIZE = 12;
// PKCS #8 wrapping of a raw X25519 private key (RFC 8410): only the fixed-vector hook needs it.
const PKCS8_X25519_PREFIX = Uint8Array.from([
  0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x6e, 0x04, 0x22, 0x04, 0x20,
]);
// The server's padding (survey_app/keys/padding.py): below this a payload is padded to multiples.
const FALLBACK_STEP = 1024;

const encoder = new TextEncoder();

export class SealingUnavailable extends Error {}

function concat(...parts) {
  const total = parts.reduce((sum, part) => sum + part.length, 0);
  const out = new Uint8Array(total);
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

export function toHex(bytes) {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

export function fromHex(text) {
  const out = new Uint8Array(text.length / 2);
  for (let i = 0; i < out.length; i += 1) {
    out[i] = parseInt(text.slice(i * 2, i * 2 + 2), 16);
  }
  return out;
}

export function toBase64(bytes) {
  let text = "";
  for (const b of bytes) {
    text += String.fromCharCode(b);
  }
  return btoa(text);
}

export function fromBase64(text) {
  return Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
}

function subtle() {
  if (!globalThis.crypto || !globalThis.crypto.subtle) {
    throw new SealingUnavailable("this page is not in a secure context: WebCrypto is missing");
  }
  return globalThis.crypto.subtle;
}

export async function keyIdOf(publicRaw) {
  const digest = new Uint8Array(await subtle().digest("SHA-256", publicRaw));
  return digest.slice(0, KEY_ID_SIZE);
}

// 128 random bits as 32 hex characters: the same shape as the ids the server makes.
export function newResponseId() {
  return toHex(crypto.getRandomValues(new Uint8Array(16)));
}

export function encodeBinding(binding) {
  const parts = [];
  for (const value of [binding.responseId, binding.surveyId, binding.surveyVersion]) {
    const data = encoder.encode(value);
    const length = new Uint8Array(4);
    new DataView(length.buffer).setUint32(0, data.length, false);
    parts.push(length, data);
  }
  return concat(...parts);
}

export function pad(payload, length) {
  if (length <= payload.length) {
    throw new RangeError(`cannot pad ${payload.length} bytes to ${length}`);
  }
  const out = new Uint8Array(length);
  out.set(payload, 0);
  out[payload.length] = 0x80;
  return out;
}

// --- the payload, as survey_app.intake.responses.encode_payload writes it -------------------------

// Python's json.dumps(sort_keys=True, separators=(",", ":"), ensure_ascii=False). Keys are
// question ids and fixed names (ASCII), so sorting by UTF-16 code units equals Python's order.
export function canonicalJson(value) {
  if (Array.isArray(value)) {
    return `[${value.map(canonicalJson).join(",")}]`;
  }
  if (value !== null && typeof value === "object") {
    const keys = Object.keys(value).sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(value[k])}`).join(",")}}`;
  }
  return JSON.stringify(value);
}

export function encodePayload(answers, meta) {
  return encoder.encode(
    canonicalJson({
      format: 1,
      answers,
      meta: { site: meta.site, channel: meta.channel, language: meta.language, day: meta.day },
    }),
  );
}

function jsonLength(value) {
  return encoder.encode(JSON.stringify(value)).length;
}

function bucket(length) {
  if (length <= 0) {
    return 0;
  }
  let power = 1;
  while (power < length) {
    power *= 2;
  }
  return Math.max(64, power);
}

// The length survey_app.keys.padding.padded_length gives: the survey version's fixed budget (sent by
// the server, `plan.fixed`, null when it cannot bound the version) plus the free-text bucket.
export function paddedLength(payload, answers, plan) {
  const fallback = (Math.floor(payload.length / FALLBACK_STEP) + 1) * FALLBACK_STEP;
  if (plan.fixed === null || plan.fixed === undefined) {
    return fallback;
  }
  let free = 0;
  for (const key of plan.freeText) {
    if (Object.prototype.hasOwnProperty.call(answers, key)) {
      free += jsonLength(answers[key]);
    }
  }
  const target = plan.fixed + bucket(free);
  return target > payload.length ? target : fallback;
}

// --- the envelope ---------------------------------------------------------------------------

async function sealWith(ephemeral, ephemeralRaw, nonce, publicRaw, binding, payload, length) {
  const api = subtle();
  const recipient = await api.importKey("raw", publicRaw, { name: "X25519" }, false, []);
  const shared = await api.deriveBits({ name: "X25519", public: recipient }, ephemeral, 256);
  const ikm = await api.importKey("raw", shared, "HKDF", false, ["deriveKey"]);
  const key = await api.deriveKey(
    { name: "HKDF", hash: "SHA-256", salt: concat(ephemeralRaw, publicRaw), info: HKDF_INFO },
    ikm,
    { name: "AES-GCM", length: 256 },
    false,
    ["encrypt"],
  );
  const header = concat(
    Uint8Array.of(FORMAT_VERSION),
    await keyIdOf(publicRaw),
    ephemeralRaw,
    nonce,
  );
  const plaintext = pad(payload, length === undefined ? payload.length + 1 : length);
  const ciphertext = await api.encrypt(
    { name: "AES-GCM", iv: nonce, additionalData: concat(header, encodeBinding(binding)), tagLength: 128 },
    key,
    plaintext,
  );
  plaintext.fill(0);
  return concat(header, new Uint8Array(ciphertext));
}

// Seal `payload` (bytes) to the programme's raw public key for `binding`
// ({responseId, surveyId, surveyVersion}), padded to `length` bytes.
export async function seal(publicRaw, binding, payload, length) {
  if (publicRaw.length !== X25519_SIZE) {
    throw new RangeError(`a public key is ${X25519_SIZE} bytes, not ${publicRaw.length}`);
  }
  const pair = await subtle().generateKey({ name: "X25519" }, false, ["deriveBits"]);
  const ephemeralRaw = new Uint8Array(await subtle().exportKey("raw", pair.publicKey));
  const nonce = crypto.getRandomValues(new Uint8Array(NONCE_SIZE));
  return sealWith(pair.privateKey, ephemeralRaw, nonce, publicRaw, binding, payload, length);
}

// For the fixed test vectors only, like sealing.seal's _ephemeral and _nonce: never call it
// from the page.
export async function sealWithFixedParts(
  publicRaw, binding, payload, length, ephemeralPrivateRaw, ephemeralPublicRaw, nonce,
) {
  const ephemeral = await subtle().importKey(
    "pkcs8", concat(PKCS8_X25519_PREFIX, ephemeralPrivateRaw), { name: "X25519" }, false, ["deriveBits"],
  );
  return sealWith(ephemeral, ephemeralPublicRaw, nonce, publicRaw, binding, payload, length);
}
