import { organisationSettings } from '../store/index.js';
import type { Actor } from './actor.js';
import { recordAudit } from './audit-log.js';
import type { RequestMeta, ServiceDeps } from './context.js';
import { requireSudoAdmin } from './step-up.js';
import { requireInTree } from './tenancy.js';

export interface OrganisationSettingsView {
  orgId: string;
  /** New backup codes are also emailed to the person's verified address. Off by default. */
  emailBackupCodes: boolean;
}

/**
 * Settings of one organisation beyond its 2FA policy. Reading or changing them is for the
 * organisation's admins with sudo, within their own tree (checked here, not in the routes).
 */
export class OrganisationSettingsService {
  constructor(private readonly deps: ServiceDeps) {}

  private get db() {
    return this.deps.database.db;
  }

  async view(actor: Actor, orgId: string): Promise<OrganisationSettingsView> {
    const admin = await requireSudoAdmin(this.deps, actor);
    await requireInTree(this.db, admin, orgId);
    return { orgId, emailBackupCodes: await organisationSettings.findEmailBackupCodes(this.db, orgId) };
  }

  async setEmailBackupCodes(actor: Actor, orgId: string, on: boolean, meta: RequestMeta): Promise<OrganisationSettingsView> {
    // Before the transaction: on SQLite the check's own reads would wait for it.
    const admin = await requireSudoAdmin(this.deps, actor);
    return this.db.transaction().execute(async (trx) => {
      await requireInTree(trx, admin, orgId);
      const before = await organisationSettings.findEmailBackupCodes(trx, orgId);
      const now = this.deps.clock();
      await organisationSettings.setEmailBackupCodes(trx, { orgId, on, updatedAt: now, updatedBy: admin.id });
      await recordAudit(trx, now, { type: 'organisation.settings_changed', actorUserId: admin.id, orgId, meta, details: { setting: 'emailBackupCodes', before, after: on } });
      return { orgId, emailBackupCodes: on };
    });
  }
}

