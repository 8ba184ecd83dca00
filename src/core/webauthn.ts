import { createHash } from 'node:crypto';

/**
 * The few fields of a WebAuthn response the server reads before any signature check: which
 * challenge and origin the browser signed for (clientDataJSON), and which relying party, flags and
 * counter the authenticator signed (authenticatorData). Pure parsing; a malformed value is null.
 */
export interface ClientData {
  type: string;
  challenge: string;
  origin: string;
}

export interface AuthenticatorDataHead {
  rpIdHash: Buffer;
  userPresent: boolean;
  userVerified: boolean;
  backupEligible: boolean;
  backupState: boolean;
  signCount: number;
}

const BASE64URL = /^[A-Za-z0-9_-]*$/;

export function decodeBase64Url(value: unknown): Buffer | null {
  if (typeof value !== 'string' || !BASE64URL.test(value)) return null;
  return Buffer.from(value, 'base64url');
}

export function parseClientData(encoded: unknown): ClientData | null {
  const bytes = decodeBase64Url(encoded);
  if (!bytes || bytes.length === 0 || bytes.length > 4096) return null;
  try {
    const parsed: unknown = JSON.parse(bytes.toString('utf8'));
    if (typeof parsed !== 'object' || parsed === null) return null;
    const { type, challenge, origin } = parsed as Record<string, unknown>;
    if (typeof type !== 'string' || typeof challenge !== 'string' || typeof origin !== 'string') return null;
    return { type, challenge, origin };
  } catch {
    return null;
  }
}

export function parseAuthenticatorData(encoded: unknown): AuthenticatorDataHead | null {
  const bytes = decodeBase64Url(encoded);
  if (!bytes || bytes.length < 37) return null;
  const flags = bytes[32] ?? 0;
  return {
    rpIdHash: bytes.subarray(0, 32),
    userPresent: (flags & 0x01) !== 0,
    userVerified: (flags & 0x04) !== 0,
    backupEligible: (flags & 0x08) !== 0,
    backupState: (flags & 0x10) !== 0,
    signCount: bytes.readUInt32BE(33),
  };
}

export function rpIdHash(rpId: string): Buffer {
  return createHash('sha256').update(rpId, 'utf8').digest();
}

/**
 * RFC 8176 method references for an assertion: `swk` for a key that may be synced off the device
 * (a passkey in a password manager), `hwk` for one bound to its hardware; `user` when the
 * authenticator verified the person (PIN, fingerprint, face).
 */
export function webAuthnAmr(input: { backupEligible: boolean; userVerified: boolean }): string[] {
  return [input.backupEligible ? 'swk' : 'hwk', ...(input.userVerified ? ['user'] : [])];
}

/**
 * A signature counter must move forward; one that does not says the credential was cloned. An
 * authenticator that keeps no counter reports 0 every time, which is allowed while it stays 0.
 */
export function counterAcceptable(stored: number, received: number): boolean {
  if (stored === 0 && received === 0) return true;
  return received > stored;
}

/**
 * The WebAuthn challenge that approves one deploy: SHA-256(nonce || target id || digest), with a
 * random server nonce. The authenticator signs clientDataJSON, which carries this challenge, so
 * anyone holding the nonce, the target id and the digest can check that the assertion approved
 * exactly that bundle on exactly that target; a changed bundle yields another challenge.
 */
export function deployChallengeBytes(nonce: Buffer, targetId: string, digest: string): Buffer {
  return createHash('sha256').update(nonce).update(targetId, 'utf8').update(digest, 'utf8').digest();
}

/** Whether a sign-in's proofs include a security key or passkey (RFC 8176 hwk or swk): the phishing-resistant kind. */
export function provesKey(amr: readonly string[]): boolean {
  return amr.includes('hwk') || amr.includes('swk');
}
