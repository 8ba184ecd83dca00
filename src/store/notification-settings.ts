import type { Executor } from './database.js';
import type { NotificationSettingsRow } from './schema.js';

export async function findNotificationSettings(db: Executor, userId: string): Promise<NotificationSettingsRow | undefined> {
  return db.selectFrom('notification_settings').selectAll().where('user_id', '=', userId).executeTakeFirst();
}

export async function saveNotificationSettings(db: Executor, row: NotificationSettingsRow): Promise<void> {
  await db
    .insertInto('notification_settings')
    .values(row)
    .onConflict((oc) => oc.column('user_id').doUpdateSet({ new_device: row.new_device, new_location: row.new_location, updated_at: row.updated_at }))
    .execute();
}
