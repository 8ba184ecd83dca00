import { randomUUID } from 'node:crypto';
import { randomToken, sha256 } from '../core/crypto.js';
import { invalidInput, notFound, unauthenticated } from '../core/errors.js';
import { deploys, organisations } from '../store/index.js';
import type { Actor } from './actor.js';
import { recordAudit } from './audit-log.js';
import type { RequestMeta, ServiceDeps } from './context.js';
import { requireSudoAdmin } from './step-up.js';
import { requireInTree } from './tenancy.js';

export const API_KEY_SCOPES = ['changes:write', 'deployments:read', 'deployments:write'] as const;
export type ApiKeyScope = (typeof API_KEY_SCOPES)[number];

const KEY_PREFIX = 'tfk_';

export interface ApiKeyView {
  id: string;
  orgId: string;
  name: string;
  prefix: string;
  scopes: string[];
  createdAt: string;
  lastUsedAt: string | null;
  revokedAt: string | null;
}

/** An app acting through an API key: its organisation and what it may do. */
export interface ApiPrincipal {
  keyId: string;
  orgId: string;
  scopes: readonly string[];
}

/**
 * API keys for apps: a random secret shown once, only its SHA-256 kept (256 bits of entropy need
 * no slow hash), scoped to one organisation and a list of actions, revocable. Managing keys takes
 * a signed-in admin of the organisation with sudo, checked here; the command line (the system
 * actor) may create them too.
 */
export class ApiKeyService {
  constructor(private readonly deps: ServiceDeps) {}

  private get db() {
    return this.deps.database.db;
  }

  /** An admin with sudo, for their tree; or the command line (SYSTEM_ACTOR), for any organisation, recorded as nobody. */
  async create(actor: Actor, orgId: string, input: { name: string; scopes: readonly string[] }, meta: RequestMeta | null): Promise<{ key: string; apiKey: ApiKeyView }> {
    const admin = await requireSudoAdmin(this.deps, actor, { orSystem: true });
    const name = input.name.trim();
    if (name === '' || name.length > 80) throw invalidInput('name_invalid', 'Give the key a name of 1 to 80 characters.');
    const scopes = [...new Set(input.scopes)];
    if (scopes.length === 0 || scopes.some((s) => !(API_KEY_SCOPES as readonly string[]).includes(s))) {
      throw invalidInput('scopes_invalid', `Scopes are one or more of ${API_KEY_SCOPES.join(', ')}.`);
    }
    const secret = `${KEY_PREFIX}${randomToken(32)}`;
    return this.db.transaction().execute(async (trx) => {
      if (admin) await requireInTree(trx, admin, orgId);
      else if (!(await organisations.findOrganisation(trx, orgId))) throw notFound('organisation_not_found', 'No such organisation.');
      const now = this.deps.clock();
      const row: deploys.StoredApiKey = {
        id: randomUUID(),
        org_id: orgId,
        name,
        key_hash: sha256(secret),
        prefix: secret.slice(0, 12),
        scopes,
        created_by: admin?.id ?? null,
        created_at: now,
        last_used_at: null,
        revoked_at: null,
      };
      await deploys.insertApiKey(trx, row);
      await recordAudit(trx, now, { type: 'api_key.created', actorUserId: admin?.id ?? null, orgId, meta, details: { apiKeyId: row.id, name, scopes } });
      return { key: secret, apiKey: toView(row) };
    });
  }

  async list(actor: Actor, orgId: string): Promise<ApiKeyView[]> {
    const admin = await requireSudoAdmin(this.deps, actor);
    await requireInTree(this.db, admin, orgId);
    return (await deploys.listApiKeys(this.db, orgId)).map(toView);
  }

  async revoke(actor: Actor, id: string, meta: RequestMeta): Promise<void> {
    const admin = await requireSudoAdmin(this.deps, actor);
    await this.db.transaction().execute(async (trx) => {
      const key = await deploys.findApiKey(trx, id);
      if (!key) throw notFound('api_key_not_found', 'No such API key.');
      await requireInTree(trx, admin, key.org_id, { code: 'api_key_not_found', message: 'No such API key.' });
      const now = this.deps.clock();
      if (!(await deploys.revokeApiKey(trx, id, now))) throw notFound('api_key_not_found', 'No such API key.');
      await recordAudit(trx, now, { type: 'api_key.revoked', actorUserId: admin.id, orgId: key.org_id, meta, details: { apiKeyId: id, name: key.name } });
    });
  }

  /** Resolves `Authorization: Bearer tfk_…`; anything else, revoked or unknown is 401. */
  async authenticate(secret: string): Promise<ApiPrincipal> {
    if (!secret.startsWith(KEY_PREFIX) || secret.length > 128) throw unauthenticated('api_key_invalid', 'The API key is not valid.');
    const key = await deploys.findApiKeyByHash(this.db, sha256(secret));
    if (!key || key.revoked_at !== null) throw unauthenticated('api_key_invalid', 'The API key is not valid.');
    const now = this.deps.clock();
    if (key.last_used_at === null || now - key.last_used_at > 60_000) await deploys.touchApiKey(this.db, key.id, now);
    return { keyId: key.id, orgId: key.org_id, scopes: key.scopes };
  }
}

function toView(row: deploys.StoredApiKey): ApiKeyView {
  const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
  return {
    id: row.id,
    orgId: row.org_id,
    name: row.name,
    prefix: row.prefix,
    scopes: [...row.scopes],
    createdAt: new Date(row.created_at).toISOString(),
    lastUsedAt: iso(row.last_used_at),
    revokedAt: iso(row.revoked_at),
  };
}
