import { createPublicKey, type JsonWebKey, KeyObject } from "node:crypto";

/**
 * Voxie names its signing key by URL (`keyid="https://registry.voxie.com/keys/outbound-hooks/<id>.pem"`).
 * The keyid arrives in the request being verified, so it is attacker-chosen until the signature checks out:
 * only an https URL on Voxie's key host is ever fetched (no other host, port, credentials or redirect), and
 * the keys are cached by URL so deliveries do not each cost a fetch.
 */

export type KeyMaterial = KeyObject | JsonWebKey | string;
export type FetchKey = (url: string) => Promise<KeyMaterial>;

export const VOXIE_KEY_HOST = "registry.voxie.com";
const FETCH_TIMEOUT_MS = 5_000;
/** A PEM public key is a few hundred bytes; anything much larger is not one. */
const MAX_KEY_BYTES = 16 * 1024;

/** The keyid as a URL we may fetch: https, exactly `host`, default port, no credentials; else undefined. */
export function trustedKeyUrl(keyid: string, host: string): URL | undefined {
  let url: URL;
  try {
    url = new URL(keyid);
  } catch {
    return undefined;
  }
  const trusted =
    url.protocol === "https:" &&
    url.hostname === host.toLowerCase() &&
    url.port === "" &&
    url.username === "" &&
    url.password === "" &&
    url.hash === "";
  return trusted ? url : undefined;
}

/** Fetches a PEM over https, refusing redirects (a redirect could lead off Voxie's host). */
export const fetchPem: FetchKey = async (url) => {
  const res = await fetch(url, {
    redirect: "error",
    signal: AbortSignal.timeout(FETCH_TIMEOUT_MS),
    headers: { accept: "application/x-pem-file, text/plain;q=0.9, */*;q=0.1" },
  });
  if (!res.ok) throw new Error(`key fetch answered ${res.status}`);
  const text = await res.text();
  if (text.length > MAX_KEY_BYTES) throw new Error("key fetch answered an oversized body");
  return text;
};

/** The material as a P-256 public key, or undefined when it is anything else (RSA, another curve, junk). */
export function p256PublicKey(material: KeyMaterial): KeyObject | undefined {
  try {
    const key =
      typeof material === "string"
        ? createPublicKey(material)
        : material instanceof KeyObject
          ? createPublicKey(material)
          : createPublicKey({ key: material, format: "jwk" });
    const ok = key.asymmetricKeyType === "ec" && key.asymmetricKeyDetails?.namedCurve === "prime256v1";
    return ok ? key : undefined;
  } catch {
    return undefined;
  }
}

export interface KeyCacheOptions {
  fetchKey: FetchKey;
  /** How long a fetched key is trusted before it is fetched again. @default 3_600_000 (1 h) */
  ttlMs?: number;
  /** How long a failed fetch is remembered, so a bad keyid cannot make every request fetch. @default 60_000 */
  failureTtlMs?: number;
  /** Most URLs kept; the least recently used goes first. @default 16 */
  maxEntries?: number;
  now?: () => number;
}

interface Entry {
  key: Promise<KeyObject | undefined>;
  expiresAt: number;
}

/**
 * Keys by URL with a TTL and a bounded size. Concurrent deliveries share one fetch (the promise is cached);
 * a failed or unusable key is cached briefly as undefined.
 */
export function keyCache(opts: KeyCacheOptions): (url: string) => Promise<KeyObject | undefined> {
  const ttl = opts.ttlMs ?? 3_600_000;
  const failureTtl = opts.failureTtlMs ?? 60_000;
  const max = Math.max(1, opts.maxEntries ?? 16);
  const now = opts.now ?? Date.now;
  const entries = new Map<string, Entry>();

  return (url) => {
    const cached = entries.get(url);
    entries.delete(url);
    if (cached && cached.expiresAt > now()) {
      entries.set(url, cached);
      return cached.key;
    }
    const entry: Entry = { key: Promise.resolve(undefined), expiresAt: now() + ttl };
    entry.key = opts
      .fetchKey(url)
      .then(p256PublicKey)
      .catch(() => undefined)
      .then((key) => {
        if (!key) entry.expiresAt = Math.min(entry.expiresAt, now() + failureTtl);
        return key;
      });
    entries.set(url, entry);
    for (const oldest of entries.keys()) {
      if (entries.size <= max) break;
      entries.delete(oldest);
    }
    return entry.key;
  };
}
