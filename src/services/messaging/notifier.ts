import { formatInTimeZone } from '../../core/time-zone.js';
import { securityNotice } from '../../delivery/index.js';
import { recordAudit } from '../audit-log.js';
import type { RequestMeta, ServiceDeps } from '../context.js';
import { companyNameFor } from '../branding.js';
import type { MessageSender } from './sender.js';
import { deliveryFailureDetails } from './sender.js';
import type { Principal } from '../principal.js';

export interface Notice {
  /** One line, e.g. "Your password was changed". */
  title: string;
  /** Label/value rows beyond the time and place, which are added here. */
  lines?: ReadonlyArray<readonly [string, string]>;
  /** Where the link leads on this site, and what it says: the security page unless the notice needs another (e.g. the password form). */
  link?: { path: string; label: string };
  /** What to do if it was not them, when the general advice is not precise enough. */
  advice?: string;
}

/**
 * Security notices by email to the account's own address. A notice is told after the change it
 * reports has committed; failing to send one is audited but never undoes or blocks the change.
 */
export class Notifier {
  constructor(
    private readonly deps: ServiceDeps,
    private readonly sender: MessageSender,
  ) {}

  async notify(user: Principal, notice: Notice, meta?: RequestMeta | null): Promise<boolean> {
    const now = this.deps.clock();
    const lines: Array<readonly [string, string]> = [['Time', formatInTimeZone(now, user.time_zone)], ...(notice.lines ?? [])];
    if (meta) lines.push(['IP address', meta.ip]);
    const rendered = securityNotice({
      companyName: await companyNameFor(this.deps, user.org_id),
      title: notice.title,
      lines,
      link: `${this.deps.settings.publicUrl}${notice.link?.path ?? '/account/security'}`,
      ...(notice.link ? { linkLabel: notice.link.label } : {}),
      ...(notice.advice ? { advice: notice.advice } : {}),
    });
    const db = this.deps.database.db;
    try {
      await this.sender.sendFor(db, user.org_id, { channel: 'email', to: user.email, subject: rendered.subject, text: rendered.text, html: rendered.html }, { fallbackToOutbox: true });
      return true;
    } catch (error) {
      await recordAudit(db, this.deps.clock(), {
        type: 'notification.failed',
        subjectUserId: user.id,
        orgId: user.org_id,
        meta: meta ?? null,
        details: { title: notice.title, ...deliveryFailureDetails(error) },
      });
      return false;
    }
  }
}
