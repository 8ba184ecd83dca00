import type { Executor } from './database.js';
import type { OidcClientRow, OidcConsentRow, OidcPayloadRow } from './schema.js';

type ListColumn = 'redirect_uris' | 'post_logout_redirect_uris' | 'scopes';
type FlagColumn = 'public' | 'require_two_factor';

/** An app as the services see it: the row's JSON lists decoded and its 0/1 flags as booleans. */
export type StoredOidcClient = Omit<OidcClientRow, ListColumn | FlagColumn> & { [K in ListColumn]: string[] } & { [K in FlagColumn]: boolean };
export type StoredOidcConsent = Omit<OidcConsentRow, 'scopes'> & { scopes: string[] };
export type OidcClientChange = Partial<Pick<StoredOidcClient, 'name' | ListColumn | 'require_two_factor' | 'secret_hash' | 'audience'>> & { updated_at: number };

function clientOf(row: OidcClientRow): StoredOidcClient {
  return {
    ...row,
    redirect_uris: JSON.parse(row.redirect_uris) as string[],
    post_logout_redirect_uris: JSON.parse(row.post_logout_redirect_uris) as string[],
    scopes: JSON.parse(row.scopes) as string[],
    public: Number(row.public) === 1,
    require_two_factor: Number(row.require_two_factor) === 1,
  };
}

/** The columns of a (partial) client, encoded for the row. */
function encode<T extends Partial<StoredOidcClient>>(client: T) {
  const { redirect_uris: redirect, post_logout_redirect_uris: postLogout, scopes, public: isPublic, require_two_factor: requireTwoFactor, ...rest } = client;
  return {
    ...rest,
    ...(redirect !== undefined ? { redirect_uris: JSON.stringify(redirect) } : {}),
    ...(postLogout !== undefined ? { post_logout_redirect_uris: JSON.stringify(postLogout) } : {}),
    ...(scopes !== undefined ? { scopes: JSON.stringify(scopes) } : {}),
    ...(isPublic !== undefined ? { public: isPublic ? 1 : 0 } : {}),
    ...(requireTwoFactor !== undefined ? { require_two_factor: requireTwoFactor ? 1 : 0 } : {}),
  };
}

export async function insertClient(db: Executor, client: StoredOidcClient): Promise<void> {
  await db
    .insertInto('oidc_clients')
    .values(encode(client) as OidcClientRow)
    .execute();
}

export async function findClient(db: Executor, id: string): Promise<StoredOidcClient | undefined> {
  const row = await db.selectFrom('oidc_clients').selectAll().where('id', '=', id).executeTakeFirst();
  return row && clientOf(row);
}

export async function listClients(db: Executor, orgIds: readonly string[]): Promise<StoredOidcClient[]> {
  if (orgIds.length === 0) return [];
  return (await db.selectFrom('oidc_clients').selectAll().where('org_id', 'in', orgIds).orderBy('created_at').execute()).map(clientOf);
}

export async function updateClient(db: Executor, id: string, change: OidcClientChange): Promise<void> {
  await db.updateTable('oidc_clients').set(encode(change)).where('id', '=', id).execute();
}

export async function deleteClient(db: Executor, id: string): Promise<boolean> {
  const r = await db.deleteFrom('oidc_clients').where('id', '=', id).executeTakeFirst();
  return Number(r.numDeletedRows) === 1;
}

export async function findConsent(db: Executor, userId: string, clientId: string): Promise<StoredOidcConsent | undefined> {
  const row = await db.selectFrom('oidc_consents').selectAll().where('user_id', '=', userId).where('client_id', '=', clientId).executeTakeFirst();
  return row && { ...row, scopes: JSON.parse(row.scopes) as string[] };
}

export async function saveConsent(db: Executor, consent: StoredOidcConsent): Promise<void> {
  const scopes = JSON.stringify(consent.scopes);
  await db
    .insertInto('oidc_consents')
    .values({ ...consent, scopes })
    .onConflict((oc) => oc.columns(['user_id', 'client_id']).doUpdateSet({ scopes, granted_at: consent.granted_at }))
    .execute();
}

/** Writes a provider record; a second save of the same record keeps its creation time and consumption. */
export async function upsertPayload(db: Executor, row: Omit<OidcPayloadRow, 'consumed_at'>): Promise<void> {
  await db
    .insertInto('oidc_payloads')
    .values({ ...row, consumed_at: null })
    .onConflict((oc) =>
      oc.columns(['model', 'id']).doUpdateSet({ payload: row.payload, grant_id: row.grant_id, uid: row.uid, user_code: row.user_code, expires_at: row.expires_at }),
    )
    .execute();
}

type Lookup = { id: string } | { uid: string } | { user_code: string };

/** A live (unexpired) record of one model, by id, session uid or device user code. */
export async function findPayload(db: Executor, model: string, by: Lookup, nowMs: number): Promise<OidcPayloadRow | undefined> {
  let q = db.selectFrom('oidc_payloads').selectAll().where('model', '=', model);
  if ('id' in by) q = q.where('id', '=', by.id);
  else if ('uid' in by) q = q.where('uid', '=', by.uid);
  else q = q.where('user_code', '=', by.user_code);
  return q.where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', nowMs)])).executeTakeFirst();
}

/** Marks a code or token used; false when it already was (two nodes redeeming one code at once). */
export async function consumePayload(db: Executor, model: string, id: string, nowMs: number): Promise<boolean> {
  const r = await db.updateTable('oidc_payloads').set({ consumed_at: nowMs }).where('model', '=', model).where('id', '=', id).where('consumed_at', 'is', null).executeTakeFirst();
  return Number(r.numUpdatedRows) === 1;
}

export async function deletePayload(db: Executor, model: string, id: string): Promise<void> {
  await db.deleteFrom('oidc_payloads').where('model', '=', model).where('id', '=', id).execute();
}

/** Every record of a grant (of one model, or of all when `model` is null): how a grant is revoked. */
export async function deletePayloadsOfGrant(db: Executor, model: string | null, grantId: string): Promise<void> {
  let q = db.deleteFrom('oidc_payloads').where('grant_id', '=', grantId);
  if (model !== null) q = q.where('model', '=', model);
  await q.execute();
  // The grant record itself is stored under its own id.
  if (model === null || model === 'Grant') await db.deleteFrom('oidc_payloads').where('model', '=', 'Grant').where('id', '=', grantId).execute();
}

export async function deleteExpiredPayloads(db: Executor, nowMs: number): Promise<number> {
  const r = await db.deleteFrom('oidc_payloads').where('expires_at', '<=', nowMs).executeTakeFirst();
  return Number(r.numDeletedRows);
}
