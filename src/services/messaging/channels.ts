import type { Channel } from '../../delivery/index.js';
import type { ChannelEntry, Executor } from '../../store/index.js';
import { deliveryProviders, organisations } from '../../store/index.js';

export type ChannelUnavailableReason = 'not_configured' | 'not_allowed';

export interface ChannelStatus {
  channel: Channel;
  available: boolean;
  /** Why users cannot use the channel, when they cannot. */
  reason?: ChannelUnavailableReason;
  /** The entry that decides, which may belong to an ancestor organisation. */
  entry: ChannelEntry | null;
}

export const CHANNEL_LABELS: Record<Channel, string> = { sms: 'Text message', email: 'Email' };

/**
 * Which provider carries a channel for a user's organisation, and whether users there may use it.
 * The nearest entry up the organisation tree decides, so an agency's entry serves every
 * sub-account that has none of its own, and a sub-account can bind its own provider.
 */
export async function channelStatus(db: Executor, orgId: string, channel: Channel): Promise<ChannelStatus> {
  const chain = await organisations.ancestorIds(db, orgId);
  const entries = await deliveryProviders.listChannelEntries(db, chain);
  const entry = chain.map((id) => entries.find((e) => e.org_id === id && e.channel === channel)).find((e) => e !== undefined) ?? null;
  if (!entry || entry.provider_id === null) return { channel, available: false, reason: 'not_configured', entry };
  if (!entry.allowed) return { channel, available: false, reason: 'not_allowed', entry };
  return { channel, available: true, entry };
}

/** Said to a user who holds a factor on a channel that cannot be used now. */
export function unavailableExplanation(status: ChannelStatus): string {
  const label = CHANNEL_LABELS[status.channel];
  return status.reason === 'not_allowed'
    ? `${label} codes are switched off by your organisation. Use another method.`
    : `${label} codes cannot be sent: your organisation has not set up a provider for them. Use another method.`;
}
