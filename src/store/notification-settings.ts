import type { Executor } from './database.js';
import type { NotificationSettings } from './schema.js';

export async function findNotificationSettings(db: Executor, userId: string): Promise<NotificationSettings | undefined> {
  const row = await db.selectFrom('notification_settings').selectAll().where('user_id', '=', userId).executeTakeFirst();
  return row && { userId: row.user_id, newDevice: Number(row.new_device) === 1, newLocation: Number(row.new_location) === 1, updatedAt: Number(row.updated_at) };
}

export async function saveNotificationSettings(db: Executor, settings: NotificationSettings): Promise<void> {
  const row = { user_id: settings.userId, new_device: settings.newDevice ? 1 : 0, new_location: settings.newLocation ? 1 : 0, updated_at: settings.updatedAt };
  await db
    .insertInto('notification_settings')
    .values(row)
    .onConflict((oc) => oc.column('user_id').doUpdateSet({ new_device: row.new_device, new_location: row.new_location, updated_at: row.updated_at }))
    .execute();
}
