import { hmacSha256 } from '../core/crypto.js';
import type { OidcPayloadRow } from '../store/index.js';
import { oidc } from '../store/index.js';
import type { ServiceDeps } from './context.js';
import type { OidcClientService, ProviderClientMetadata } from './oidc-clients.js';
import { oidcPayloadContext } from './secret-contexts.js';

/** The shape oidc-provider stores: an open JSON object (its own types live with the HTTP layer). */
export type StoredPayload = Record<string, unknown> & { grantId?: string; uid?: string; userCode?: string };

/** The storage interface oidc-provider calls an "adapter", one instance per model. */
export interface OidcStorage {
  upsert(id: string, payload: StoredPayload, expiresIn?: number): Promise<void>;
  find(id: string): Promise<StoredPayload | ProviderClientMetadata | undefined>;
  findByUserCode(userCode: string): Promise<StoredPayload | undefined>;
  findByUid(uid: string): Promise<StoredPayload | undefined>;
  consume(id: string): Promise<void>;
  destroy(id: string): Promise<void>;
  revokeByGrantId(grantId: string): Promise<void>;
}

/** Codes and refresh tokens are spent once; a second spend revokes everything issued under the grant. */
const SINGLE_USE = new Set(['AuthorizationCode', 'RefreshToken']);
const SWEEP_EVERY_MS = 60_000;

/** AAD of a sealed payload: it opens only in the row (model and hashed id) it was written for. */
const payloadContext = oidcPayloadContext;

/**
 * oidc-provider's records in the database, so that an authorization started on one node can be
 * finished on another. Clients are not stored here: they are read from the clients table.
 * Expiry follows the server clock: an expired row is never returned, and expired rows are
 * swept at most once a minute per process.
 *
 * A database dump must not hand out working tokens. The id of a record is the bearer value
 * itself for access tokens, refresh tokens, authorization codes, client-credentials tokens and
 * device codes (and the cookie value for sessions and interactions), and the payload repeats it
 * (`jti`, an interaction's session cookie, a device flow's user code). So every lookup value
 * (id, uid, user code, grant id) is stored as HMAC-SHA256 under a key derived from the server
 * secret, computed again from the value the provider presents; and the payload is sealed
 * (AES-256-GCM, bound to its row). Rows written before this (raw ids) are never found again.
 */
export class OidcStorageFactory {
  private lastSweep = 0;
  private readonly lookupKey: Buffer;

  constructor(
    private readonly deps: ServiceDeps,
    private readonly clients: OidcClientService,
    /** The error to throw when a single-use record is spent twice at once (the provider's invalid_grant). */
    private readonly replayed: (model: string) => Error,
  ) {
    this.lookupKey = deps.box.deriveKey('oidc-payload-lookup');
  }

  /** What a provider value (token, code, session or grant id, uid, user code) is stored and looked up as. */
  lookupHash(value: string): string {
    return hmacSha256(this.lookupKey, value);
  }

  forModel(model: string): OidcStorage {
    const db = () => this.deps.database.db;
    const now = () => this.deps.clock();
    const sweep = async () => {
      if (now() - this.lastSweep < SWEEP_EVERY_MS) return;
      this.lastSweep = now();
      await oidc.deleteExpiredPayloads(db(), now());
    };
    const hash = (value: string) => this.lookupHash(value);
    const read = (row: OidcPayloadRow | undefined): StoredPayload | undefined => {
      if (!row) return undefined;
      let payload: StoredPayload;
      try {
        payload = JSON.parse(this.deps.box.decrypt(row.payload, payloadContext(model, row.id))) as StoredPayload;
      } catch {
        // Not sealed for this row (moved, or edited in the database): as good as absent.
        return undefined;
      }
      return row.consumed_at === null ? payload : { ...payload, consumed: Math.floor(row.consumed_at / 1000) };
    };

    if (model === 'Client') {
      const readOnly = async () => {
        throw new Error('clients are managed by Twofold, not by the OIDC provider');
      };
      return {
        upsert: readOnly,
        find: (id) => this.clients.providerMetadata(id),
        findByUserCode: async () => undefined,
        findByUid: async () => undefined,
        consume: readOnly,
        destroy: readOnly,
        revokeByGrantId: async () => undefined,
      };
    }

    return {
      upsert: async (id, payload, expiresIn) => {
        const at = now();
        const storedId = hash(id);
        await oidc.upsertPayload(db(), {
          model,
          id: storedId,
          payload: this.deps.box.encrypt(JSON.stringify(payload), payloadContext(model, storedId)),
          grant_id: typeof payload.grantId === 'string' ? hash(payload.grantId) : null,
          uid: typeof payload.uid === 'string' ? hash(payload.uid) : null,
          user_code: typeof payload.userCode === 'string' ? hash(payload.userCode) : null,
          created_at: at,
          expires_at: typeof expiresIn === 'number' && expiresIn > 0 ? at + expiresIn * 1000 : null,
        });
        await sweep();
      },
      find: async (id) => read(await oidc.findPayload(db(), model, { id: hash(id) }, now())),
      findByUid: async (uid) => read(await oidc.findPayload(db(), model, { uid: hash(uid) }, now())),
      findByUserCode: async (userCode) => read(await oidc.findPayload(db(), model, { user_code: hash(userCode) }, now())),
      consume: async (id) => {
        const storedId = hash(id);
        if (await oidc.consumePayload(db(), model, storedId, now())) return;
        if (!SINGLE_USE.has(model)) return;
        // Another request spent it between the provider's check and this update: treat it as a replay.
        const row = await db().selectFrom('oidc_payloads').select('grant_id').where('model', '=', model).where('id', '=', storedId).executeTakeFirst();
        // Stored hashed, like the Grant record's own id: the grant is revoked by its hash.
        if (row?.grant_id) await oidc.deletePayloadsOfGrant(db(), null, row.grant_id);
        throw this.replayed(model);
      },
      destroy: async (id) => oidc.deletePayload(db(), model, hash(id)),
      revokeByGrantId: async (grantId) => oidc.deletePayloadsOfGrant(db(), model, hash(grantId)),
    };
  }

  /** The provider-side record's creation time on the server clock (the start of an interaction). */
  async createdAt(model: string, id: string): Promise<number | null> {
    const row = await oidc.findPayload(this.deps.database.db, model, { id: this.lookupHash(id) }, this.deps.clock());
    return row?.created_at ?? null;
  }
}
