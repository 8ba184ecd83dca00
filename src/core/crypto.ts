/**
 * Small, opinionated wrappers over node:crypto. Every encoded output is
 * base64url so values can go into URLs, cookies and database text columns
 * without escaping.
 */
import {
  createCipheriv,
  createDecipheriv,
  createHash,
  createHmac,
  hkdfSync,
  randomBytes,
  timingSafeEqual,
} from 'node:crypto';
import { TwofoldError, invalidInput } from './errors.js';

const KEY_BYTES = 32;
const IV_BYTES = 12; // the GCM-native nonce size; anything else is hashed internally
const TAG_BYTES = 16;
/** v1: no key id (every value sealed before key rotation existed); v2: `v2.<key id>.<sealed>`. */
const LEGACY_PREFIX = 'v1.';
const KEYED_PREFIX = 'v2.';
const KEY_ID_INFO = 'twofold/key-id';

// HKDF labels. Encryption uses its own subkey rather than the master key so
// that no derived pepper can ever equal the AES key, whatever `purpose` says.
const HKDF_SALT = Buffer.from('twofold/hkdf/v1', 'utf8');
const ENCRYPTION_INFO = 'twofold/secretbox/aes-256-gcm';
const PURPOSE_INFO_PREFIX = 'twofold/purpose/';

export function randomToken(bytes = 32): string {
  if (!Number.isInteger(bytes) || bytes < 1) {
    throw invalidInput('token_size_invalid', 'Token size must be a positive whole number of bytes');
  }
  return randomBytes(bytes).toString('base64url');
}

/** Only suitable for high-entropy inputs (tokens); passwords need a slow KDF. */
export function sha256(input: string): string {
  return createHash('sha256').update(input, 'utf8').digest('base64url');
}

export function hmacSha256(key: Buffer, input: string): string {
  return createHmac('sha256', key).update(input, 'utf8').digest('base64url');
}

/**
 * timingSafeEqual throws on length mismatch and a length check would leak the
 * length, so both sides are first reduced to fixed-size digests.
 */
export function constantTimeEqual(a: string, b: string): boolean {
  const da = createHash('sha256').update(a, 'utf8').digest();
  const db = createHash('sha256').update(b, 'utf8').digest();
  return timingSafeEqual(da, db);
}

function hkdf(key: Buffer, info: string): Buffer {
  return Buffer.from(hkdfSync('sha256', key, HKDF_SALT, Buffer.from(info, 'utf8'), KEY_BYTES));
}

function decryptFailed(): TwofoldError {
  // One code for every failure mode: callers cannot act differently on
  // "bad format" versus "bad tag", and an oracle distinguishing them helps nobody.
  return new TwofoldError('unavailable', 'decrypt_failed', 'Stored secret could not be decrypted');
}

/**
 * A short public name for a master key, stored with each ciphertext so the box knows which key
 * opens it. An HMAC of a fixed label: it says nothing about the key beyond telling keys apart.
 */
export function keyIdOf(key: Buffer): string {
  return createHmac('sha256', key).update(KEY_ID_INFO, 'utf8').digest('base64url').slice(0, 8);
}

/** How every value sealed under `keyId` begins: a rotation looks for values that do not. */
export function sealedPrefixOf(keyId: string): string {
  return `${KEYED_PREFIX}${keyId}.`;
}

/** The key id a sealed value names, or null for a legacy (v1) value, which names none. */
export function sealedKeyId(sealed: string): string | null {
  if (!sealed.startsWith(KEYED_PREFIX)) return null;
  const end = sealed.indexOf('.', KEYED_PREFIX.length);
  return end < 0 ? null : sealed.slice(KEYED_PREFIX.length, end);
}

function checkKey(key: Buffer): void {
  if (!Buffer.isBuffer(key) || key.length !== KEY_BYTES) {
    throw invalidInput('secret_key_invalid', `Secret key must be exactly ${KEY_BYTES} bytes`);
  }
}

export interface SecretBoxKeys {
  /** Seals every new value; opens values sealed under it. */
  current: Buffer;
  /** Open values only: the key being rotated away from, or the next key before every node has it. */
  accepted?: readonly Buffer[];
  /**
   * The key lookup peppers (`deriveKey`) come from. It outlives rotations because some values
   * keyed with it can never be recomputed (OIDC client secrets are kept only as HMACs).
   * Default: the current key, which is what every database started with.
   */
  derivationRoot?: Buffer;
}

interface OpeningKey {
  id: string;
  encryptionKey: Buffer;
}

/**
 * Authenticated encryption for secrets at rest (TOTP seeds and the like).
 * `context` is bound as AAD, typically "table:column:rowId", so a ciphertext
 * copied into another row or column fails to decrypt instead of silently
 * granting that row someone else's secret.
 *
 * Several master keys may open values (key rotation); only the current one seals.
 */
export class SecretBox {
  readonly #current: OpeningKey;
  /** Current first: a legacy value, which names no key, is tried in this order. */
  readonly #opening: readonly OpeningKey[];
  readonly #derivationRoot: Buffer;

  constructor(keys: Buffer | SecretBoxKeys) {
    const ring: SecretBoxKeys = Buffer.isBuffer(keys) ? { current: keys } : keys;
    const all = [ring.current, ...(ring.accepted ?? [])];
    all.forEach(checkKey);
    const opening: OpeningKey[] = [];
    for (const key of all) {
      const id = keyIdOf(key);
      if (!opening.some((k) => k.id === id)) opening.push({ id, encryptionKey: hkdf(key, ENCRYPTION_INFO) });
    }
    this.#opening = opening;
    this.#current = opening[0]!;
    const root = ring.derivationRoot ?? ring.current;
    checkKey(root);
    // Copy so later mutation of the caller's buffer cannot change our keys.
    this.#derivationRoot = Buffer.from(root);
  }

  /** The id of the key new values are sealed under. */
  get currentKeyId(): string {
    return this.#current.id;
  }

  /** Whether a sealed value is already under the current key (a rotation skips it). */
  isCurrent(sealed: string): boolean {
    return sealedKeyId(sealed) === this.#current.id;
  }

  encrypt(plaintext: string, context: string): string {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.#current.encryptionKey, iv, { authTagLength: TAG_BYTES });
    cipher.setAAD(Buffer.from(context, 'utf8'));
    const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    const sealed = Buffer.concat([iv, body, cipher.getAuthTag()]);
    return `${sealedPrefixOf(this.#current.id)}${sealed.toString('base64url')}`;
  }

  decrypt(sealed: string, context: string): string {
    let encoded: string;
    let candidates: readonly OpeningKey[];
    if (sealed.startsWith(LEGACY_PREFIX)) {
      encoded = sealed.slice(LEGACY_PREFIX.length);
      candidates = this.#opening;
    } else {
      const id = sealedKeyId(sealed);
      const key = this.#opening.find((k) => k.id === id);
      if (id === null || !key) throw decryptFailed();
      encoded = sealed.slice(KEYED_PREFIX.length + id.length + 1);
      candidates = [key];
    }
    // Buffer.from silently skips junk characters, so validate the alphabet first.
    if (!/^[A-Za-z0-9_-]+$/.test(encoded)) throw decryptFailed();
    const raw = Buffer.from(encoded, 'base64url');
    if (raw.length < IV_BYTES + TAG_BYTES) throw decryptFailed();
    const iv = raw.subarray(0, IV_BYTES);
    const body = raw.subarray(IV_BYTES, raw.length - TAG_BYTES);
    const tag = raw.subarray(raw.length - TAG_BYTES);
    for (const key of candidates) {
      try {
        const decipher = createDecipheriv('aes-256-gcm', key.encryptionKey, iv, { authTagLength: TAG_BYTES });
        decipher.setAAD(Buffer.from(context, 'utf8'));
        decipher.setAuthTag(tag);
        return Buffer.concat([decipher.update(body), decipher.final()]).toString('utf8');
      } catch {
        // the next key, if any
      }
    }
    throw decryptFailed();
  }

  /** Independent 32-byte subkey per purpose, e.g. an HMAC pepper for lookup hashes. */
  deriveKey(purpose: string): Buffer {
    if (purpose.length === 0) {
      throw invalidInput('key_purpose_invalid', 'Key purpose must not be empty');
    }
    return hkdf(this.#derivationRoot, PURPOSE_INFO_PREFIX + purpose);
  }
}

/**
 * Accepts the forms an operator is likely to paste into config: 64 hex chars
 * (`openssl rand -hex 32`) or base64 / base64url of 32 bytes
 * (`openssl rand -base64 32`). Surrounding whitespace is ignored because
 * env files and secret mounts often carry a trailing newline.
 */
export function parseSecretKey(text: string): Buffer {
  const t = text.trim();
  if (/^[0-9a-fA-F]{64}$/.test(t)) return Buffer.from(t, 'hex');
  if (/^[A-Za-z0-9+/_-]{43}=?$/.test(t)) {
    const b64url = t.replace(/\+/g, '-').replace(/\//g, '_').replace(/=$/, '');
    const key = Buffer.from(b64url, 'base64url');
    // The final character carries 2 spare bits; rejecting non-canonical
    // encodings keeps "one key, one spelling" and catches mangled pastes.
    if (key.length === KEY_BYTES && key.toString('base64url') === b64url) return key;
  }
  throw invalidInput(
    'secret_key_invalid',
    'Secret key must be 32 bytes given as 64 hex characters or base64/base64url',
  );
}
