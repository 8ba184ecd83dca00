/**
 * Every column that holds a value sealed with the master key (core/crypto.ts SecretBox), as cells
 * a key rotation can read in batches and replace one by one. A cell carries what its AAD
 * context is built from; services/secret-contexts.ts turns that into the context string.
 */
import { sql } from 'kysely';
import type { Executor } from './database.js';

export type SealedCellRef =
  | { column: 'factor'; id: string; type: string }
  | { column: 'backup-code'; id: string; userId: string }
  | { column: 'provider'; id: string }
  | { column: 'signing-key'; kid: string }
  | { column: 'oidc-payload'; model: string; id: string }
  | { column: 'key-material'; name: string }
  | { column: 'approver-device'; id: string };

export type SealedColumn = SealedCellRef['column'];

export const SEALED_COLUMNS: readonly SealedColumn[] = ['factor', 'backup-code', 'provider', 'signing-key', 'oidc-payload', 'key-material', 'approver-device'];

export interface SealedCell {
  ref: SealedCellRef;
  sealed: string;
}

export interface CellQuery {
  /** Only cells whose value does not start with this (the current key's prefix): what a rotation has left. */
  notStartingWith?: string;
  /** Only cells after this one in key order: a walk through a big table reads each row once. */
  after?: SealedCellRef;
  limit: number;
}

/** The key-order condition for `after` (the cell's primary key; oidc_payloads has two columns). */
function afterCell(after: SealedCellRef | undefined) {
  if (!after) return sql<boolean>`1 = 1`;
  switch (after.column) {
    case 'factor':
    case 'backup-code':
    case 'provider':
      return sql<boolean>`id > ${after.id}`;
    case 'signing-key':
      return sql<boolean>`kid > ${after.kid}`;
    case 'oidc-payload':
      return sql<boolean>`(model > ${after.model} or (model = ${after.model} and id > ${after.id}))`;
    case 'key-material':
      return sql<boolean>`name > ${after.name}`;
    case 'approver-device':
      return sql<boolean>`id > ${after.id}`;
  }
}

/** `substr` rather than LIKE: key ids are base64url, and `_` is a LIKE wildcard. */
function notPrefixed(column: string, prefix: string | undefined) {
  return prefix === undefined ? sql<boolean>`1 = 1` : sql<boolean>`substr(${sql.ref(column)}, 1, ${prefix.length}) <> ${prefix}`;
}

/** Up to `limit` cells of one column, in key order. */
export async function listCells(db: Executor, column: SealedColumn, query: CellQuery): Promise<SealedCell[]> {
  const { notStartingWith: prefix, limit } = query;
  const after = afterCell(query.after);
  switch (column) {
    case 'factor': {
      const rows = await db.selectFrom('factors').select(['id', 'type', 'secret_encrypted']).where(notPrefixed('secret_encrypted', prefix)).where(after).orderBy('id').limit(limit).execute();
      return rows.map((r) => ({ ref: { column, id: r.id, type: r.type }, sealed: r.secret_encrypted }));
    }
    case 'backup-code': {
      const rows = await db.selectFrom('backup_codes').select(['id', 'user_id', 'code_encrypted']).where(notPrefixed('code_encrypted', prefix)).where(after).orderBy('id').limit(limit).execute();
      return rows.map((r) => ({ ref: { column, id: r.id, userId: r.user_id }, sealed: r.code_encrypted }));
    }
    case 'provider': {
      const rows = await db.selectFrom('delivery_providers').select(['id', 'config_encrypted']).where(notPrefixed('config_encrypted', prefix)).where(after).orderBy('id').limit(limit).execute();
      return rows.map((r) => ({ ref: { column, id: r.id }, sealed: r.config_encrypted }));
    }
    case 'signing-key': {
      const rows = await db.selectFrom('signing_keys').select(['kid', 'private_jwk_encrypted']).where(notPrefixed('private_jwk_encrypted', prefix)).where(after).orderBy('kid').limit(limit).execute();
      return rows.map((r) => ({ ref: { column, kid: r.kid }, sealed: r.private_jwk_encrypted }));
    }
    case 'oidc-payload': {
      const rows = await db.selectFrom('oidc_payloads').select(['model', 'id', 'payload']).where(notPrefixed('payload', prefix)).where(after).orderBy('model').orderBy('id').limit(limit).execute();
      return rows.map((r) => ({ ref: { column, model: r.model, id: r.id }, sealed: r.payload }));
    }
    case 'key-material': {
      const rows = await db.selectFrom('key_material').select(['name', 'sealed']).where(notPrefixed('sealed', prefix)).where(after).orderBy('name').limit(limit).execute();
      return rows.map((r) => ({ ref: { column, name: r.name }, sealed: r.sealed }));
    }
    case 'approver-device': {
      const rows = await db
        .selectFrom('approver_devices')
        .select(['id', 'push_subscription_encrypted'])
        .where('push_subscription_encrypted', 'is not', null)
        .where(notPrefixed('push_subscription_encrypted', prefix))
        .where(after)
        .orderBy('id')
        .limit(limit)
        .execute();
      return rows.map((r) => ({ ref: { column, id: r.id }, sealed: r.push_subscription_encrypted ?? '' }));
    }
  }
}

/** Where each column lives: table and column name. */
export const SEALED_COLUMN_LOCATIONS = {
  factor: ['factors', 'secret_encrypted'],
  'backup-code': ['backup_codes', 'code_encrypted'],
  provider: ['delivery_providers', 'config_encrypted'],
  'signing-key': ['signing_keys', 'private_jwk_encrypted'],
  'oidc-payload': ['oidc_payloads', 'payload'],
  'key-material': ['key_material', 'sealed'],
  'approver-device': ['approver_devices', 'push_subscription_encrypted'],
} as const;

/** How many cells a column holds (only those not starting with `notStartingWith`, when given). */
export async function countCells(db: Executor, column: SealedColumn, notStartingWith?: string): Promise<number> {
  const [table, sealedColumn] = SEALED_COLUMN_LOCATIONS[column];
  const row = await db
    .selectFrom(table)
    .where(notPrefixed(sealedColumn, notStartingWith))
    .where(sql.ref(sealedColumn), 'is not', null)
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

/**
 * Compare-and-set: writes `sealed` only if the cell still holds what was read, so a value the
 * server changed meanwhile (a new TOTP secret, an edited provider) is never overwritten with an
 * older one. Says whether it wrote.
 */
export async function replaceCell(db: Executor, cell: SealedCell, sealed: string): Promise<boolean> {
  const { ref } = cell;
  let result: { numUpdatedRows: bigint };
  switch (ref.column) {
    case 'factor':
      result = await db.updateTable('factors').set({ secret_encrypted: sealed }).where('id', '=', ref.id).where('secret_encrypted', '=', cell.sealed).executeTakeFirst();
      break;
    case 'backup-code':
      result = await db.updateTable('backup_codes').set({ code_encrypted: sealed }).where('id', '=', ref.id).where('code_encrypted', '=', cell.sealed).executeTakeFirst();
      break;
    case 'provider':
      result = await db.updateTable('delivery_providers').set({ config_encrypted: sealed }).where('id', '=', ref.id).where('config_encrypted', '=', cell.sealed).executeTakeFirst();
      break;
    case 'signing-key':
      result = await db.updateTable('signing_keys').set({ private_jwk_encrypted: sealed }).where('kid', '=', ref.kid).where('private_jwk_encrypted', '=', cell.sealed).executeTakeFirst();
      break;
    case 'oidc-payload':
      result = await db.updateTable('oidc_payloads').set({ payload: sealed }).where('model', '=', ref.model).where('id', '=', ref.id).where('payload', '=', cell.sealed).executeTakeFirst();
      break;
    case 'key-material':
      result = await db.updateTable('key_material').set({ sealed }).where('name', '=', ref.name).where('sealed', '=', cell.sealed).executeTakeFirst();
      break;
    case 'approver-device':
      result = await db.updateTable('approver_devices').set({ push_subscription_encrypted: sealed }).where('id', '=', ref.id).where('push_subscription_encrypted', '=', cell.sealed).executeTakeFirst();
      break;
  }
  return Number(result.numUpdatedRows) === 1;
}
