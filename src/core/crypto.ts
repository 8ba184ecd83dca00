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
const SEALED_PREFIX = 'v1.';

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
 * Authenticated encryption for secrets at rest (TOTP seeds and the like).
 * `context` is bound as AAD, typically "table:column:rowId", so a ciphertext
 * copied into another row or column fails to decrypt instead of silently
 * granting that row someone else's secret.
 */
export class SecretBox {
  readonly #encryptionKey: Buffer;
  readonly #masterKey: Buffer;

  constructor(key: Buffer) {
    if (!Buffer.isBuffer(key) || key.length !== KEY_BYTES) {
      throw invalidInput('secret_key_invalid', `Secret key must be exactly ${KEY_BYTES} bytes`);
    }
    // Copy so later mutation of the caller's buffer cannot change our keys.
    this.#masterKey = Buffer.from(key);
    this.#encryptionKey = hkdf(this.#masterKey, ENCRYPTION_INFO);
  }

  encrypt(plaintext: string, context: string): string {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.#encryptionKey, iv, { authTagLength: TAG_BYTES });
    cipher.setAAD(Buffer.from(context, 'utf8'));
    const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    const sealed = Buffer.concat([iv, body, cipher.getAuthTag()]);
    return SEALED_PREFIX + sealed.toString('base64url');
  }

  decrypt(sealed: string, context: string): string {
    if (!sealed.startsWith(SEALED_PREFIX)) throw decryptFailed();
    const encoded = sealed.slice(SEALED_PREFIX.length);
    // Buffer.from silently skips junk characters, so validate the alphabet first.
    if (!/^[A-Za-z0-9_-]+$/.test(encoded)) throw decryptFailed();
    const raw = Buffer.from(encoded, 'base64url');
    if (raw.length < IV_BYTES + TAG_BYTES) throw decryptFailed();
    const iv = raw.subarray(0, IV_BYTES);
    const body = raw.subarray(IV_BYTES, raw.length - TAG_BYTES);
    const tag = raw.subarray(raw.length - TAG_BYTES);
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.#encryptionKey, iv, { authTagLength: TAG_BYTES });
      decipher.setAAD(Buffer.from(context, 'utf8'));
      decipher.setAuthTag(tag);
      return Buffer.concat([decipher.update(body), decipher.final()]).toString('utf8');
    } catch {
      throw decryptFailed();
    }
  }

  /** Independent 32-byte subkey per purpose, e.g. an HMAC pepper for lookup hashes. */
  deriveKey(purpose: string): Buffer {
    if (purpose.length === 0) {
      throw invalidInput('key_purpose_invalid', 'Key purpose must not be empty');
    }
    return hkdf(this.#masterKey, PURPOSE_INFO_PREFIX + purpose);
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
