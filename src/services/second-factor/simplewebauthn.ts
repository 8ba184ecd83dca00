import type * as SimpleWebAuthn from '@simplewebauthn/server';

let loading: Promise<typeof SimpleWebAuthn> | undefined;

/**
 * @simplewebauthn/server, loaded at the first security-key ceremony rather than at start: it
 * and its ASN.1 and CBOR libraries hold about 14 MiB of resident memory (measured next to
 * Fastify), which a server whose people use no key never needs.
 */
export function simpleWebAuthn(): Promise<typeof SimpleWebAuthn> {
  return (loading ??= import('@simplewebauthn/server'));
}
