/**
 * A software WebAuthn authenticator for server tests: a P-256 key, attestation "none", and
 * assertions made the way a browser and an authenticator make them (authenticatorData,
 * clientDataJSON, an ECDSA signature over both). Every field a test wants to get wrong (origin,
 * RP ID, counter, challenge) can be overridden per call.
 */
import { createHash, generateKeyPairSync, randomBytes, sign } from 'node:crypto';
import type { KeyObject } from 'node:crypto';

type Cbor = number | string | Buffer | Cbor[] | Map<number | string, Cbor>;

function head(major: number, value: number): Buffer {
  if (value < 24) return Buffer.from([(major << 5) | value]);
  if (value < 256) return Buffer.from([(major << 5) | 24, value]);
  if (value < 65536) return Buffer.from([(major << 5) | 25, value >> 8, value & 0xff]);
  const b = Buffer.alloc(5);
  b[0] = (major << 5) | 26;
  b.writeUInt32BE(value, 1);
  return b;
}

/** The little CBOR WebAuthn needs: integers, text, bytes, arrays and maps. */
export function cbor(value: Cbor): Buffer {
  if (typeof value === 'number') return value >= 0 ? head(0, value) : head(1, -1 - value);
  if (typeof value === 'string') {
    const text = Buffer.from(value, 'utf8');
    return Buffer.concat([head(3, text.length), text]);
  }
  if (Buffer.isBuffer(value)) return Buffer.concat([head(2, value.length), value]);
  if (Array.isArray(value)) return Buffer.concat([head(4, value.length), ...value.map(cbor)]);
  const parts: Buffer[] = [head(5, value.size)];
  for (const [k, v] of value) parts.push(cbor(k), cbor(v));
  return Buffer.concat(parts);
}

const sha256 = (data: Buffer | string) => createHash('sha256').update(data).digest();
const b64u = (data: Buffer | string) => Buffer.from(data).toString('base64url');

export interface SoftAuthenticatorOptions {
  /** Synced passkey (backup eligible and backed up): amr `swk` rather than `hwk`. */
  backupEligible?: boolean;
  /** Whether the authenticator verifies the person (amr `user`). */
  userVerifying?: boolean;
  /** Keep a signature counter (security keys do; most passkeys report 0). */
  counting?: boolean;
}

export interface AssertionOverrides {
  origin?: string;
  rpId?: string;
  challenge?: string;
  /** Report this counter instead of the next one. */
  counter?: number;
  type?: string;
  /** Sign with another key (a forged assertion). */
  signWith?: KeyObject;
}

interface CreationOptions {
  challenge: string;
  rp: { id?: string; name: string };
  user: { id: string; name: string };
}

interface RequestOptions {
  challenge: string;
  rpId?: string;
}

export class SoftAuthenticator {
  readonly credentialId = randomBytes(16);
  private readonly keys = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  private counter = 0;
  userHandle: string | null = null;

  constructor(
    readonly origin: string,
    private readonly options: SoftAuthenticatorOptions = {},
  ) {}

  get id(): string {
    return b64u(this.credentialId);
  }

  get rpId(): string {
    return new URL(this.origin).hostname;
  }

  private flags(attested: boolean): number {
    let f = 0x01; // user present
    if (this.options.userVerifying) f |= 0x04;
    if (this.options.backupEligible) f |= 0x08 | 0x10;
    if (attested) f |= 0x40;
    return f;
  }

  private coseKey(): Buffer {
    const jwk = this.keys.publicKey.export({ format: 'jwk' });
    return cbor(
      new Map<number, Cbor>([
        [1, 2],
        [3, -7],
        [-1, 1],
        [-2, Buffer.from(jwk.x!, 'base64url')],
        [-3, Buffer.from(jwk.y!, 'base64url')],
      ]),
    );
  }

  /** The answer of navigator.credentials.create() to `options` (attestation "none"). */
  register(options: CreationOptions, overrides: { origin?: string; rpId?: string; challenge?: string } = {}) {
    this.userHandle = options.user.id;
    const clientDataJSON = Buffer.from(JSON.stringify({ type: 'webauthn.create', challenge: overrides.challenge ?? options.challenge, origin: overrides.origin ?? this.origin, crossOrigin: false }));
    const counter = Buffer.alloc(4);
    counter.writeUInt32BE(this.counter);
    const idLength = Buffer.alloc(2);
    idLength.writeUInt16BE(this.credentialId.length);
    const authData = Buffer.concat([sha256(overrides.rpId ?? options.rp.id ?? this.rpId), Buffer.from([this.flags(true)]), counter, Buffer.alloc(16), idLength, this.credentialId, this.coseKey()]);
    const attestationObject = cbor(
      new Map<string, Cbor>([
        ['fmt', 'none'],
        ['attStmt', new Map()],
        ['authData', authData],
      ]),
    );
    return {
      id: this.id,
      rawId: this.id,
      type: 'public-key',
      response: { clientDataJSON: b64u(clientDataJSON), attestationObject: b64u(attestationObject), transports: ['usb'] },
      clientExtensionResults: { credProps: { rk: true } },
    };
  }

  /** The answer of navigator.credentials.get() to `options`; the counter moves on each call (when counting). */
  assert(options: RequestOptions, overrides: AssertionOverrides = {}) {
    if (this.options.counting !== false) this.counter += 1;
    const count = overrides.counter ?? (this.options.counting === false ? 0 : this.counter);
    const clientDataJSON = Buffer.from(JSON.stringify({ type: overrides.type ?? 'webauthn.get', challenge: overrides.challenge ?? options.challenge, origin: overrides.origin ?? this.origin, crossOrigin: false }));
    const counter = Buffer.alloc(4);
    counter.writeUInt32BE(count);
    const authenticatorData = Buffer.concat([sha256(overrides.rpId ?? options.rpId ?? this.rpId), Buffer.from([this.flags(false)]), counter]);
    const signature = sign('sha256', Buffer.concat([authenticatorData, sha256(clientDataJSON)]), overrides.signWith ?? this.keys.privateKey);
    return {
      id: this.id,
      rawId: this.id,
      type: 'public-key',
      response: { clientDataJSON: b64u(clientDataJSON), authenticatorData: b64u(authenticatorData), signature: b64u(signature), ...(this.userHandle ? { userHandle: this.userHandle } : {}) },
      clientExtensionResults: {},
    };
  }
}

export function otherKey(): KeyObject {
  return generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
}
