import type { AuditEvent, Executor } from '../store/index.js';
import { audit } from '../store/index.js';
import type { RequestMeta } from './context.js';

/** Every event type the server writes. Adding one here is how a new event is introduced. */
export const AUDIT_EVENT_TYPES = [
  'setup.completed',
  'user.created',
  'user.disabled',
  'user.enabled',
  'password.changed',
  'sign_in.succeeded',
  'sign_in.failed',
  'sign_in.limited',
  'sign_in.key_required',
  'sign_out',
  'session.revoked',
  'reauthentication.succeeded',
  'reauthentication.failed',
  'second_factor.succeeded',
  'second_factor.failed',
  'second_factor.locked_out',
  'factor.enrolment_started',
  'factor.confirmed',
  'factor.removed',
  'factor.renamed',
  'factor.set_up_again_skipped',
  'factor.default_chosen',
  'factor.enrolment_failed',
  'backup_codes.generated',
  'backup_codes.regenerated',
  'backup_code.used',
  'trusted_browser.created',
  'trusted_browser.revoked',
  'organisation.created',
  'organisation.branding_changed',
  'organisation.settings_changed',
  'backup_codes.email_failed',
  'role.created',
  'group.created',
  'role.granted',
  'group.member_added',
  'policy.changed',
  'role_policy.changed',
  'provider.created',
  'provider.changed',
  'provider.deleted',
  'provider.tested',
  'channel.changed',
  'channel.allowed',
  'channel.disallowed',
  'code.sent',
  'code.send_failed',
  'code.verified',
  'code.failed',
  'password_reset.requested',
  'password_reset.completed',
  'notification.failed',
  'admin.factors_reset',
  'admin.backup_codes_viewed',
  'admin.backup_codes_regenerated',
  'api_key.created',
  'api_key.revoked',
  'deploy_target.created',
  'deploy_target.changed',
  'deploy_target.refused',
  'deploy_target.deployers_changed',
  'deploy_change.added',
  'deployment.created',
  'deployment.refused',
  'sign_in.blocked',
  'sessions.others_revoked',
  'device.blocked',
  'device.unblocked',
  'location.blocked',
  'location.unblocked',
  'notification_settings.changed',
  'time_zone.changed',
  'oidc_client.created',
  'oidc_client.changed',
  'oidc_client.secret_rotated',
  'oidc_client.deleted',
  'oidc.consent_granted',
  'oidc.authorized',
  'oidc.denied',
  'user.invited',
  'user.updated',
  'user.deleted',
  'invitation.resent',
  'invitation.revoked',
  'invitation.accepted',
  'admin.factor_removed',
  'role.renamed',
  'role.deleted',
  'role.revoked',
  'group.renamed',
  'group.deleted',
  'group.member_removed',
  'webauthn.counter_regressed',
  'factor.renamed',
  'approver.pairing_started',
  'approver.paired',
  'approver.renamed',
  'approver.removed',
  'approval.requested',
  'approval.push_failed',
  'approval.decided',
  'approval.paused',
] as const;

export type AuditEventType = (typeof AUDIT_EVENT_TYPES)[number];

export interface AuditEntry {
  type: AuditEventType;
  actorUserId?: string | null;
  subjectUserId?: string | null;
  orgId?: string | null;
  meta?: RequestMeta | null;
  details?: Record<string, unknown>;
}

/** Call with the transaction that makes the change, so the record and the change commit together. */
export async function recordAudit(db: Executor, nowMs: number, entry: AuditEntry): Promise<void> {
  await audit.appendAuditEvent(db, {
    occurred_at: nowMs,
    event_type: entry.type,
    actor_user_id: entry.actorUserId ?? null,
    subject_user_id: entry.subjectUserId ?? null,
    org_id: entry.orgId ?? null,
    ip: entry.meta?.ip ?? null,
    user_agent: entry.meta?.userAgent ?? null,
    details: entry.details ?? {},
  });
}

export interface AuditView {
  id: number;
  occurredAt: string;
  type: string;
  actorUserId: string | null;
  subjectUserId: string | null;
  orgId: string | null;
  ip: string | null;
  userAgent: string | null;
  details: Record<string, unknown>;
}

export function toAuditView(e: AuditEvent): AuditView {
  return {
    id: Number(e.id),
    occurredAt: new Date(e.occurred_at).toISOString(),
    type: e.event_type,
    actorUserId: e.actor_user_id,
    subjectUserId: e.subject_user_id,
    orgId: e.org_id,
    ip: e.ip,
    userAgent: e.user_agent,
    details: e.details,
  };
}
