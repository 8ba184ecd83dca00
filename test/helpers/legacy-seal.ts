import { createCipheriv, hkdfSync, randomBytes } from 'node:crypto';

/**
 * A value sealed the way every release before key ids did: `v1.` + iv, body and tag, naming no
 * key. Written out here (not imported) so the tests keep the old format fixed.
 */
export function legacySeal(key: Buffer, plaintext: string, context: string): string {
  const encryptionKey = Buffer.from(hkdfSync('sha256', key, Buffer.from('twofold/hkdf/v1'), Buffer.from('twofold/secretbox/aes-256-gcm'), 32));
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', encryptionKey, iv, { authTagLength: 16 });
  cipher.setAAD(Buffer.from(context, 'utf8'));
  const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return `v1.${Buffer.concat([iv, body, cipher.getAuthTag()]).toString('base64url')}`;
}
