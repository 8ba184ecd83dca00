import type { Executor } from './database.js';
import type { ChannelEntry, ChannelEntryRow, DeliveryChannel, DeliveryProviderRow } from './schema.js';

function entryOf(row: ChannelEntryRow): ChannelEntry {
  return { ...row, allowed: Number(row.allowed) === 1 };
}

export async function insertProvider(db: Executor, row: DeliveryProviderRow): Promise<void> {
  await db.insertInto('delivery_providers').values(row).execute();
}

export async function findProvider(db: Executor, id: string): Promise<DeliveryProviderRow | undefined> {
  return db.selectFrom('delivery_providers').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function listProviders(db: Executor, orgIds: readonly string[]): Promise<DeliveryProviderRow[]> {
  if (orgIds.length === 0) return [];
  return db.selectFrom('delivery_providers').selectAll().where('org_id', 'in', orgIds).orderBy('created_at').execute();
}

export async function updateProvider(
  db: Executor,
  id: string,
  change: Pick<DeliveryProviderRow, 'name' | 'config_encrypted' | 'updated_at' | 'updated_by'>,
): Promise<void> {
  await db.updateTable('delivery_providers').set(change).where('id', '=', id).execute();
}

export async function deleteProvider(db: Executor, id: string): Promise<void> {
  await db.deleteFrom('delivery_providers').where('id', '=', id).execute();
}

/** Entries, in any organisation, that send through this provider. */
export async function entriesUsingProvider(db: Executor, providerId: string): Promise<ChannelEntry[]> {
  return (await db.selectFrom('channel_entries').selectAll().where('provider_id', '=', providerId).execute()).map(entryOf);
}

export async function findChannelEntry(db: Executor, orgId: string, channel: DeliveryChannel): Promise<ChannelEntry | undefined> {
  const row = await db.selectFrom('channel_entries').selectAll().where('org_id', '=', orgId).where('channel', '=', channel).executeTakeFirst();
  return row && entryOf(row);
}

export async function listChannelEntries(db: Executor, orgIds: readonly string[]): Promise<ChannelEntry[]> {
  if (orgIds.length === 0) return [];
  return (await db.selectFrom('channel_entries').selectAll().where('org_id', 'in', orgIds).execute()).map(entryOf);
}

export async function upsertChannelEntry(db: Executor, entry: ChannelEntry): Promise<void> {
  const row: ChannelEntryRow = { ...entry, allowed: entry.allowed ? 1 : 0 };
  await db
    .insertInto('channel_entries')
    .values(row)
    .onConflict((oc) =>
      oc.columns(['org_id', 'channel']).doUpdateSet({
        provider_id: row.provider_id,
        title: row.title,
        allowed: row.allowed,
        updated_at: row.updated_at,
        updated_by: row.updated_by,
      }),
    )
    .execute();
}
