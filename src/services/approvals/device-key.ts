import { createPublicKey, verify } from 'node:crypto';
import type { JsonWebKey } from 'node:crypto';
import { invalidInput } from '../../core/errors.js';

/**
 * A phone's device key: ECDSA P-256, made by WebCrypto in the phone's browser with a
 * non-extractable private key. Only the public half reaches Twofold, as a JWK.
 */

const B64URL_32 = /^[A-Za-z0-9_-]{43}$/;

/** The public JWK as stored (only kty, crv, x, y); throws `approver_key_invalid` for anything else. */
export function parseDevicePublicKey(input: unknown): string {
  const refuse = () => invalidInput('approver_key_invalid', 'The device key must be an ECDSA P-256 public key (JWK).');
  if (typeof input !== 'object' || input === null) throw refuse();
  const jwk = input as Record<string, unknown>;
  if (jwk.kty !== 'EC' || jwk.crv !== 'P-256' || 'd' in jwk) throw refuse();
  if (typeof jwk.x !== 'string' || typeof jwk.y !== 'string' || !B64URL_32.test(jwk.x) || !B64URL_32.test(jwk.y)) throw refuse();
  const stored = { kty: 'EC', crv: 'P-256', x: jwk.x, y: jwk.y };
  try {
    createPublicKey({ key: stored as JsonWebKey, format: 'jwk' }); // a point not on the curve is refused here
  } catch {
    throw refuse();
  }
  return JSON.stringify(stored);
}

/**
 * Whether `signatureB64url` is the device's signature of `message` (SHA-256). WebCrypto signs
 * in IEEE P1363 form (r || s, 64 bytes), not DER.
 */
export function verifyDeviceSignature(publicKeyJwk: string, message: string, signatureB64url: string): boolean {
  if (!/^[A-Za-z0-9_-]{86}$/.test(signatureB64url)) return false;
  try {
    const key = createPublicKey({ key: JSON.parse(publicKeyJwk) as JsonWebKey, format: 'jwk' });
    return verify('sha256', Buffer.from(message, 'utf8'), { key, dsaEncoding: 'ieee-p1363' }, Buffer.from(signatureB64url, 'base64url'));
  } catch {
    return false;
  }
}
