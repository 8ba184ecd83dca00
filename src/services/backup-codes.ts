import { randomUUID } from 'node:crypto';
import { BACKUP_CODE_COUNT, generateBackupCodes, normaliseBackupCode } from '../core/backup-codes.js';
import { hmacSha256 } from '../core/crypto.js';
import type { BackupCode, Executor } from '../store/index.js';
import { conflict } from '../core/errors.js';
import { backupCodes, factors, organisationSettings } from '../store/index.js';
import { backupCodesMessage } from '../delivery/index.js';
import { companyNameFor } from './branding.js';
import type { MessageSender } from './messaging/sender.js';
import { deliveryFailureDetails } from './messaging/sender.js';
import { recordAudit } from './audit-log.js';
import { backupCodeContext, factorDestinationContext } from './secret-contexts.js';
import type { RequestMeta, ServiceDeps } from './context.js';
import type { Principal } from './principal.js';

/** Below this many unused codes the user is warned to print a new set. */
export const BACKUP_CODES_LOW_WATERMARK = 3;

export interface BackupCodeStatus {
  remaining: number;
  total: number;
  low: boolean;
}

/**
 * What became of the emailed copy of a new set (the organisation setting `emailBackupCodes`):
 * not asked for, sent, not sent because the address is unproven, or the send failed.
 */
export type BackupCodesEmail = { status: 'off' } | { status: 'sent'; to: string } | { status: 'unverified'; to: string } | { status: 'failed'; to: string };

export class BackupCodeService {
  private readonly pepper: Buffer;

  constructor(
    private readonly deps: ServiceDeps,
    private readonly sender: MessageSender,
  ) {
    this.pepper = deps.box.deriveKey('backup-codes');
  }

  /** Codes have 60 bits, so a keyed fast hash is enough; the key keeps a stolen table useless. */
  hashCode(normalised: string): string {
    return hmacSha256(this.pepper, normalised);
  }

  /** Creates a new set in the caller's transaction, replacing any old set. Returns the codes once. */
  async issueSet(trx: Executor, user: Principal, reason: 'generated' | 'regenerated', actorUserId: string, meta: RequestMeta | null): Promise<string[]> {
    const now = this.deps.clock();
    const codes = generateBackupCodes(BACKUP_CODE_COUNT);
    const rows: BackupCode[] = codes.map((code) => {
      const id = randomUUID();
      const normalised = normaliseBackupCode(code) ?? code;
      return {
        id,
        user_id: user.id,
        code_hash: this.hashCode(normalised),
        code_encrypted: this.deps.box.encrypt(code, backupCodeContext(user.id)),
        created_at: now,
        used_at: null,
      };
    });
    await backupCodes.replaceBackupCodes(trx, user.id, rows);
    await recordAudit(trx, now, {
      type: reason === 'generated' ? 'backup_codes.generated' : 'backup_codes.regenerated',
      actorUserId,
      subjectUserId: user.id,
      orgId: user.org_id,
      meta,
      details: { count: codes.length },
    });
    return codes;
  }

  /**
   * After the set has committed: emails a copy when the organisation asks for it, only to an
   * address the person proved they read (an active email factor for the account's own address).
   * A failed send is audited and reported, never undoes the set: the codes are on the page.
   */
  async emailCopy(user: Principal, codes: readonly string[], meta: RequestMeta | null): Promise<BackupCodesEmail> {
    const db = this.deps.database.db;
    if (!(await organisationSettings.findEmailBackupCodes(db, user.org_id))) return { status: 'off' };
    const to = user.email;
    if (!(await this.addressVerified(user))) return { status: 'unverified', to };
    try {
      const rendered = backupCodesMessage({ companyName: await companyNameFor(this.deps, user.org_id), account: user.email, codes, link: `${this.deps.settings.publicUrl}/account/security` });
      await this.sender.sendFor(db, user.org_id, { channel: 'email', to, subject: rendered.subject, text: rendered.text, html: rendered.html });
      return { status: 'sent', to };
    } catch (error) {
      await recordAudit(db, this.deps.clock(), { type: 'backup_codes.email_failed', subjectUserId: user.id, orgId: user.org_id, meta, details: deliveryFailureDetails(error) });
      return { status: 'failed', to };
    }
  }

  /** The account's address counts as verified once the person confirmed a code sent to it: an active email factor for it. */
  private async addressVerified(user: Principal): Promise<boolean> {
    const held = await factors.listActiveFactors(this.deps.database.db, user.id);
    const own = user.email.trim().toLowerCase();
    return held.some((f) => f.type === 'email' && this.deps.box.decrypt(f.secret_encrypted, factorDestinationContext(f.id)).trim().toLowerCase() === own);
  }

  async regenerate(user: Principal, meta: RequestMeta): Promise<{ codes: string[]; email: BackupCodesEmail }> {
    const codes = await this.deps.database.db.transaction().execute(async (trx) => {
      // Backup codes stand in for a factor; without one they would be a password-only bypass.
      if ((await factors.countHeldFactors(trx, user.id)) === 0) {
        throw conflict('no_factor', 'Turn on two-step verification before creating backup codes.');
      }
      return this.issueSet(trx, user, 'regenerated', user.id, meta);
    });
    return { codes, email: await this.emailCopy(user, codes, meta) };
  }

  async status(userId: string): Promise<BackupCodeStatus> {
    const all = await backupCodes.listBackupCodes(this.deps.database.db, userId);
    const remaining = all.filter((c) => c.used_at === null).length;
    return { remaining, total: all.length, low: all.length > 0 && remaining <= BACKUP_CODES_LOW_WATERMARK };
  }

  /** Decrypts the current set for display to an admin or the user; used codes are marked. */
  async reveal(userId: string): Promise<Array<{ code: string; used: boolean }>> {
    const all = await backupCodes.listBackupCodes(this.deps.database.db, userId);
    return all.map((c) => ({ code: this.deps.box.decrypt(c.code_encrypted, backupCodeContext(userId)), used: c.used_at !== null }));
  }
}
