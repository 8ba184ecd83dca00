import { constantTimeEqual, hmacSha256, randomToken } from '../core/crypto.js';
import { forbidden, invalidInput, notFound } from '../core/errors.js';
import type { OidcScope } from '../core/oidc.js';
import { normaliseRedirectUris, normaliseScopes } from '../core/oidc.js';
import type { Executor } from '../store/index.js';
import { oidc, organisations } from '../store/index.js';
import type { Actor } from './actor.js';
import { recordAudit } from './audit-log.js';
import type { RequestMeta, ServiceDeps } from './context.js';
import { requireSudoAdmin } from './step-up.js';
import { requireInTree } from './tenancy.js';
import type { Principal } from './principal.js';

const CLIENT_PREFIX = 'tfc_';
/**
 * Who may sign in to an app: the people of the organisation that registered it and of every
 * organisation below it (the default), or everyone with a Twofold account (a shared app).
 */
export const OIDC_AUDIENCES = ['organisation', 'everyone'] as const;
export type OidcAudience = (typeof OIDC_AUDIENCES)[number];
const SECRET_PREFIX = 'tfs_';

export interface OidcClientInput {
  name: string;
  redirectUris: readonly string[];
  postLogoutRedirectUris?: readonly string[] | undefined;
  /** A public client (browser or native app) has no secret and must use PKCE. */
  public?: boolean | undefined;
  scopes?: readonly string[] | undefined;
  requireTwoFactor?: boolean | undefined;
  /** Default 'organisation': only people of the client's organisation tree may sign in. */
  audience?: OidcAudience | undefined;
}

export interface OidcClientChange {
  name?: string | undefined;
  redirectUris?: readonly string[] | undefined;
  postLogoutRedirectUris?: readonly string[] | undefined;
  scopes?: readonly string[] | undefined;
  requireTwoFactor?: boolean | undefined;
  audience?: OidcAudience | undefined;
}

export interface OidcClientView {
  id: string;
  orgId: string;
  name: string;
  redirectUris: string[];
  postLogoutRedirectUris: string[];
  public: boolean;
  scopes: OidcScope[];
  requireTwoFactor: boolean;
  audience: OidcAudience;
  createdAt: string;
  updatedAt: string;
}

/** What oidc-provider needs to know about a client (its "client metadata"). */
export interface ProviderClientMetadata {
  client_id: string;
  client_name: string;
  redirect_uris: string[];
  post_logout_redirect_uris: string[];
  response_types: string[];
  grant_types: string[];
  token_endpoint_auth_method: 'none' | 'client_secret_basic';
  /** The HMAC of the secret, never the secret: see secretDigest. */
  client_secret?: string;
  scope: string;
  id_token_signed_response_alg: string;
  application_type: 'web';
}

const CLIENT_NOT_FOUND = { code: 'client_not_found', message: 'No such app.' } as const;

/**
 * Apps that sign people in through Twofold. A confidential client's secret is shown once; the
 * database keeps only HMAC-SHA256(key derived from the server secret, secret), and that digest
 * is what the OIDC provider compares: the token endpoint turns the secret an app presents into
 * its digest before the provider sees it (see http/oidc/mount.ts). Managing clients takes a
 * signed-in admin of the client's organisation (or one above it) with sudo, checked here before
 * anything else; the command line (the system actor) may register them too.
 */
export class OidcClientService {
  private readonly secretKey: Buffer;

  constructor(private readonly deps: ServiceDeps) {
    this.secretKey = deps.box.deriveKey('oidc-client-secret');
  }

  private get db() {
    return this.deps.database.db;
  }

  secretDigest(secret: string): string {
    return hmacSha256(this.secretKey, secret);
  }

  /** An admin with sudo, for their tree; or the command line (SYSTEM_ACTOR), for any organisation, recorded as nobody. */
  async create(actor: Actor, orgId: string, input: OidcClientInput, meta: RequestMeta | null): Promise<{ client: OidcClientView; secret: string | null }> {
    const admin = await requireSudoAdmin(this.deps, actor, { orSystem: true });
    const name = validName(input.name);
    const redirectUris = normaliseRedirectUris(input.redirectUris, 'redirect');
    const postLogout = normaliseRedirectUris(input.postLogoutRedirectUris ?? [], 'post_logout');
    const scopes = normaliseScopes(input.scopes);
    const isPublic = input.public === true;
    const audience = validAudience(input.audience);
    const secret = isPublic ? null : `${SECRET_PREFIX}${randomToken(32)}`;
    return this.db.transaction().execute(async (trx) => {
      if (admin) await requireInTree(trx, admin, orgId);
      else if (!(await organisations.findOrganisation(trx, orgId))) throw notFound('organisation_not_found', 'No such organisation.');
      if (audience === 'everyone' && admin) await requireMayOpenToEveryone(trx, admin);
      const now = this.deps.clock();
      const row: oidc.StoredOidcClient = {
        id: `${CLIENT_PREFIX}${randomToken(16)}`,
        org_id: orgId,
        name,
        redirect_uris: redirectUris,
        post_logout_redirect_uris: postLogout,
        public: isPublic,
        scopes,
        require_two_factor: input.requireTwoFactor === true,
        secret_hash: secret === null ? null : this.secretDigest(secret),
        audience,
        created_at: now,
        created_by: admin?.id ?? null,
        updated_at: now,
      };
      await oidc.insertClient(trx, row);
      await recordAudit(trx, now, {
        type: 'oidc_client.created',
        actorUserId: admin?.id ?? null,
        orgId,
        meta,
        details: { clientId: row.id, name, public: isPublic, redirectUris, scopes, requireTwoFactor: row.require_two_factor, audience },
      });
      return { client: toView(row), secret };
    });
  }

  /** Whether this admin may open an app to everyone (the Apps page offers the choice only then). */
  async mayOpenToEveryone(actor: Actor): Promise<boolean> {
    const admin = await requireSudoAdmin(this.deps, actor);
    return opensToEveryone(this.db, admin);
  }

  /** The clients of the admin's own organisation and every one below it, or of one of them. */
  async list(actor: Actor, orgId?: string): Promise<OidcClientView[]> {
    const admin = await requireSudoAdmin(this.deps, actor);
    if (orgId !== undefined) {
      await requireInTree(this.db, admin, orgId);
      return (await oidc.listClients(this.db, [orgId])).map(toView);
    }
    return (await oidc.listClients(this.db, await organisations.subtreeIds(this.db, admin.org_id))).map(toView);
  }

  async get(actor: Actor, id: string): Promise<OidcClientView> {
    const admin = await requireSudoAdmin(this.deps, actor);
    return toView(await this.managed(this.db, admin, id));
  }

  async update(actor: Actor, id: string, change: OidcClientChange, meta: RequestMeta): Promise<OidcClientView> {
    const admin = await requireSudoAdmin(this.deps, actor);
    const patch = {
      ...(change.name !== undefined ? { name: validName(change.name) } : {}),
      ...(change.redirectUris !== undefined ? { redirect_uris: normaliseRedirectUris(change.redirectUris, 'redirect') } : {}),
      ...(change.postLogoutRedirectUris !== undefined ? { post_logout_redirect_uris: normaliseRedirectUris(change.postLogoutRedirectUris, 'post_logout') } : {}),
      ...(change.scopes !== undefined ? { scopes: normaliseScopes(change.scopes) } : {}),
      ...(change.requireTwoFactor !== undefined ? { require_two_factor: change.requireTwoFactor } : {}),
      ...(change.audience !== undefined ? { audience: validAudience(change.audience) } : {}),
    };
    return this.db.transaction().execute(async (trx) => {
      const row = await this.managed(trx, admin, id);
      if (patch.audience === 'everyone' && row.audience !== 'everyone') await requireMayOpenToEveryone(trx, admin);
      const now = this.deps.clock();
      await oidc.updateClient(trx, id, { ...patch, updated_at: now });
      await recordAudit(trx, now, { type: 'oidc_client.changed', actorUserId: admin.id, orgId: row.org_id, meta, details: { clientId: id, changed: Object.keys(patch), ...(patch.audience ? { audience: patch.audience } : {}) } });
      return toView({ ...row, ...patch, updated_at: now });
    });
  }

  /** A new secret for a confidential client, shown once; the old one stops working at once. */
  async rotateSecret(actor: Actor, id: string, meta: RequestMeta): Promise<{ client: OidcClientView; secret: string }> {
    const admin = await requireSudoAdmin(this.deps, actor);
    const secret = `${SECRET_PREFIX}${randomToken(32)}`;
    return this.db.transaction().execute(async (trx) => {
      const row = await this.managed(trx, admin, id);
      if (row.public) throw invalidInput('client_is_public', 'A public client has no secret.');
      const now = this.deps.clock();
      await oidc.updateClient(trx, id, { secret_hash: this.secretDigest(secret), updated_at: now });
      await recordAudit(trx, now, { type: 'oidc_client.secret_rotated', actorUserId: admin.id, orgId: row.org_id, meta, details: { clientId: id } });
      return { client: toView({ ...row, updated_at: now }), secret };
    });
  }

  /** Deletes the client; its tokens stop working because the provider no longer finds the client. */
  async remove(actor: Actor, id: string, meta: RequestMeta): Promise<void> {
    const admin = await requireSudoAdmin(this.deps, actor);
    await this.db.transaction().execute(async (trx) => {
      const row = await this.managed(trx, admin, id);
      await oidc.deleteClient(trx, id);
      await recordAudit(trx, this.deps.clock(), { type: 'oidc_client.deleted', actorUserId: admin.id, orgId: row.org_id, meta, details: { clientId: id, name: row.name } });
    });
  }

  async find(id: string): Promise<OidcClientView | null> {
    if (!id.startsWith(CLIENT_PREFIX) || id.length > 64) return null;
    const row = await oidc.findClient(this.db, id);
    return row ? toView(row) : null;
  }

  /** Checks a presented secret (for callers other than the provider, which compares digests itself). */
  async verifySecret(id: string, secret: string): Promise<boolean> {
    const row = id.startsWith(CLIENT_PREFIX) ? await oidc.findClient(this.db, id) : undefined;
    return !!row?.secret_hash && constantTimeEqual(row.secret_hash, this.secretDigest(secret));
  }

  async providerMetadata(id: string): Promise<ProviderClientMetadata | undefined> {
    if (!id.startsWith(CLIENT_PREFIX) || id.length > 64) return undefined;
    const row = await oidc.findClient(this.db, id);
    if (!row) return undefined;
    const view = toView(row);
    return {
      client_id: row.id,
      client_name: row.name,
      redirect_uris: view.redirectUris,
      post_logout_redirect_uris: view.postLogoutRedirectUris,
      response_types: ['code'],
      grant_types: ['authorization_code', 'refresh_token'],
      token_endpoint_auth_method: view.public ? 'none' : 'client_secret_basic',
      ...(view.public || row.secret_hash === null ? {} : { client_secret: row.secret_hash }),
      scope: view.scopes.join(' '),
      id_token_signed_response_alg: 'ES256',
      application_type: 'web',
    };
  }

  /** The client, if the (already checked) admin manages its organisation; otherwise 404. */
  private async managed(db: Executor, admin: Principal, id: string): Promise<oidc.StoredOidcClient> {
    const row = id.length <= 64 ? await oidc.findClient(db, id) : undefined;
    if (!row) throw notFound(CLIENT_NOT_FOUND.code, CLIENT_NOT_FOUND.message);
    await requireInTree(db, admin, row.org_id, CLIENT_NOT_FOUND);
    return row;
  }
}

/**
 * An app open to everyone signs in people of organisations its admin does not manage, and
 * receives their email and organisation: a sub-organisation's admin could dress one up as the
 * parent's app. Only an admin of a top-level organisation (or the command line) may open one;
 * anyone who manages an app may narrow it.
 */
async function opensToEveryone(db: Executor, admin: Principal): Promise<boolean> {
  const org = await organisations.findOrganisation(db, admin.org_id);
  return org !== undefined && org.parent_id === null;
}

async function requireMayOpenToEveryone(db: Executor, admin: Principal): Promise<void> {
  if (!(await opensToEveryone(db, admin))) throw forbidden('audience_everyone_not_allowed', 'Only an admin of a top-level organisation can open an app to everyone.');
}

function validAudience(value: string | undefined): OidcAudience {
  if (value === undefined) return 'organisation';
  const audience = OIDC_AUDIENCES.find((a) => a === value);
  if (!audience) throw invalidInput('audience_invalid', `Say who may sign in to the app: ${OIDC_AUDIENCES.join(' or ')}.`);
  return audience;
}

function validName(value: string): string {
  const name = value.trim();
  if (name === '' || name.length > 80) throw invalidInput('name_invalid', 'Give the app a name of 1 to 80 characters.');
  return name;
}

export function toView(row: oidc.StoredOidcClient): OidcClientView {
  return {
    id: row.id,
    orgId: row.org_id,
    name: row.name,
    redirectUris: [...row.redirect_uris],
    postLogoutRedirectUris: [...row.post_logout_redirect_uris],
    public: row.public,
    scopes: row.scopes as OidcScope[],
    requireTwoFactor: row.require_two_factor,
    audience: row.audience === 'everyone' ? 'everyone' : 'organisation',
    createdAt: new Date(row.created_at).toISOString(),
    updatedAt: new Date(row.updated_at).toISOString(),
  };
}
