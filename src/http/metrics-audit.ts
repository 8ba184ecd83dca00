import { Counter, Histogram } from 'prom-client';
import type { Registry } from 'prom-client';
import type { Signals } from '../services/index.js';
import type { CommittedAuditEvent } from '../store/index.js';

/** A label value from an event's details: a short string, else `fallback` (labels must stay few). */
function label(value: unknown, fallback = 'unknown'): string {
  return typeof value === 'string' && value.length > 0 && value.length <= 40 ? value : fallback;
}

/** How a sign-in was proven, from its AMR without the summary `mfa` (`pwd`, `pwd+otp`, `pwd+sms`, …). */
function methodOf(details: Record<string, unknown>): string {
  const amr = details.amr;
  if (Array.isArray(amr) && amr.every((a) => typeof a === 'string')) return label(amr.filter((a) => a !== 'mfa').join('+'));
  return label(details.method, 'pwd');
}

/**
 * Counters fed by committed audit events: one mapping from event type to metric, so a use case
 * that records its event is counted without a metrics call of its own. Returns the unsubscribe.
 */
export function watchAuditEvents(registry: Registry, signals: Signals): () => void {
  const registers = [registry];
  const signIns = new Counter({
    name: 'twofold_sign_ins_total',
    help: 'Sign-ins by result (succeeded, failed, limited, blocked) and method (the AMR of a success; pwd for the password step)',
    labelNames: ['result', 'method'] as const,
    registers,
  });
  const secondFactorFailures = new Counter({
    name: 'twofold_second_factor_failures_total',
    help: 'Wrong or refused second-factor codes by method and purpose (sign_in, reauthentication, deploy, ...)',
    labelNames: ['method', 'purpose'] as const,
    registers,
  });
  const lockouts = new Counter({
    name: 'twofold_second_factor_lockouts_total',
    help: 'Second-factor lockouts started (code entry locked after repeated failures)',
    registers,
  });
  const codesSent = new Counter({
    name: 'twofold_codes_sent_total',
    help: 'One-time codes handed to a provider, by channel and provider kind',
    labelNames: ['channel', 'provider'] as const,
    registers,
  });
  const codesFailed = new Counter({
    name: 'twofold_codes_send_failed_total',
    help: 'One-time codes that could not be sent, by channel and provider kind (none: no provider configured)',
    labelNames: ['channel', 'provider', 'transient'] as const,
    registers,
  });
  const deliverySeconds = new Histogram({
    name: 'twofold_code_delivery_seconds',
    help: 'Time to hand a code to its provider (all attempts), by channel and provider kind',
    labelNames: ['channel', 'provider'] as const,
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30],
    registers,
  });
  const stepUps = new Counter({
    name: 'twofold_step_ups_total',
    help: 'Re-authentications (step-up) by result',
    labelNames: ['result'] as const,
    registers,
  });
  const deploys = new Counter({
    name: 'twofold_deploys_total',
    help: 'Deploy requests by result (approved: a signed deployment was created; refused)',
    labelNames: ['result'] as const,
    registers,
  });

  const count = ({ type, details }: CommittedAuditEvent): void => {
    switch (type) {
      case 'sign_in.succeeded':
        return signIns.inc({ result: 'succeeded', method: methodOf(details) });
      case 'sign_in.failed':
        return signIns.inc({ result: 'failed', method: 'pwd' });
      case 'sign_in.limited':
        return signIns.inc({ result: 'limited', method: 'pwd' });
      case 'sign_in.blocked':
        return signIns.inc({ result: 'blocked', method: 'pwd' });
      case 'second_factor.failed':
      case 'factor.enrolment_failed':
        return secondFactorFailures.inc({ method: label(details.method), purpose: label(details.purpose) });
      case 'second_factor.locked_out':
        return lockouts.inc();
      case 'code.sent': {
        const labels = { channel: label(details.channel), provider: label(details.provider) };
        codesSent.inc(labels);
        if (typeof details.elapsedMs === 'number') deliverySeconds.observe(labels, details.elapsedMs / 1000);
        return;
      }
      case 'code.send_failed': {
        const labels = { channel: label(details.channel), provider: label(details.provider, 'none') };
        codesFailed.inc({ ...labels, transient: details.transient === true ? 'true' : 'false' });
        if (typeof details.elapsedMs === 'number') deliverySeconds.observe(labels, details.elapsedMs / 1000);
        return;
      }
      case 'reauthentication.succeeded':
        return stepUps.inc({ result: 'succeeded' });
      case 'reauthentication.failed':
        return stepUps.inc({ result: 'failed' });
      case 'deployment.created':
        return deploys.inc({ result: 'approved' });
      case 'deployment.refused':
        return deploys.inc({ result: 'refused' });
      default:
        return;
    }
  };
  return signals.onCommittedAudit(count);
}
