import { randomUUID } from 'node:crypto';
import type { JWK, JWTPayload } from 'jose';
import { SignJWT, exportJWK, generateKeyPair, importJWK } from 'jose';
import { deploys } from '../store/index.js';
import type { ServiceDeps } from './context.js';
import { signingKeyContext } from './secret-contexts.js';

const ALG = 'ES256';
/** Retired keys stay published this long, so tokens they signed still verify. */
const RETIRED_KEY_GRACE_MS = 90 * 24 * 60 * 60_000;

/**
 * The server's signing keys: ES256, the private half sealed in the database so every node signs
 * with the same key and the JWKS at /.well-known/jwks.json is the same everywhere.
 */
export class SigningKeyService {
  constructor(private readonly deps: ServiceDeps) {}

  private get db() {
    return this.deps.database.db;
  }

  /** The newest unretired key, made on first use. Two nodes racing both make one; both are published. */
  async activeKey(): Promise<deploys.StoredSigningKey> {
    const keys = await deploys.listSigningKeys(this.db);
    const active = keys.find((k) => k.retired_at === null);
    return active ?? this.rotate();
  }

  /** Makes a new key and retires the others (they keep verifying for the grace period). */
  async rotate(): Promise<deploys.StoredSigningKey> {
    const { privateKey, publicKey } = await generateKeyPair(ALG, { extractable: true });
    const kid = randomUUID();
    const now = this.deps.clock();
    const publicJwk = { ...(await exportJWK(publicKey)), kid, alg: ALG, use: 'sig' };
    const row: deploys.StoredSigningKey = {
      kid,
      alg: ALG,
      private_jwk_encrypted: this.deps.box.encrypt(JSON.stringify(await exportJWK(privateKey)), signingKeyContext(kid)),
      public_jwk: publicJwk,
      created_at: now,
      retired_at: null,
    };
    await this.db.transaction().execute(async (trx) => {
      await deploys.retireSigningKeys(trx, now);
      await deploys.insertSigningKey(trx, row);
    });
    return row;
  }

  async sign(claims: JWTPayload, typ: string): Promise<string> {
    const key = await this.activeKey();
    const privateJwk = JSON.parse(this.deps.box.decrypt(key.private_jwk_encrypted, signingKeyContext(key.kid))) as JWK;
    const privateKey = await importJWK(privateJwk, ALG);
    return new SignJWT(claims).setProtectedHeader({ alg: ALG, kid: key.kid, typ }).sign(privateKey);
  }

  /**
   * The private keys for the OpenID Connect provider, unsealed: the active key first (it signs
   * ID tokens), then retired keys still within their grace period (published so that tokens
   * they signed keep verifying). Made on first use, like activeKey.
   */
  async privateJwks(): Promise<JWK[]> {
    await this.activeKey();
    const rank = (k: deploys.StoredSigningKey) => (k.retired_at === null ? 0 : 1);
    const keys = (await this.publishedKeys()).sort((a, b) => rank(a) - rank(b) || b.created_at - a.created_at);
    return keys.map((k) => ({ ...(JSON.parse(this.deps.box.decrypt(k.private_jwk_encrypted, signingKeyContext(k.kid))) as JWK), kid: k.kid, alg: k.alg, use: 'sig' }));
  }

  /** The ids of the published keys, newest first: how a node notices that another one rotated. */
  async publishedKeyIds(): Promise<string[]> {
    return (await this.publishedKeys()).map((k) => k.kid);
  }

  private async publishedKeys(): Promise<deploys.StoredSigningKey[]> {
    const now = this.deps.clock();
    return (await deploys.listSigningKeys(this.db)).filter((k) => k.retired_at === null || now - k.retired_at < RETIRED_KEY_GRACE_MS);
  }

  async jwks(): Promise<{ keys: JWK[] }> {
    const now = this.deps.clock();
    const keys = await deploys.listSigningKeys(this.db);
    return { keys: keys.filter((k) => k.retired_at === null || now - k.retired_at < RETIRED_KEY_GRACE_MS).map((k) => k.public_jwk as JWK) };
  }
}
