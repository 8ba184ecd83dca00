import { randomUUID } from 'node:crypto';
import { conflict, invalidInput, notFound, unavailable } from '../../core/errors.js';
import type { Channel, DeliveryLog, ProviderConfig, RetryResult } from '../../delivery/index.js';
import {
  CHANNELS,
  SECRET_FIELDS,
  checkProviderAddresses,
  mergeProviderSecrets,
  parseEmailAddress,
  parsePhoneNumber,
  parseProviderConfig,
  redactProviderConfig,
  redactSecret,
} from '../../delivery/index.js';
import type { ChannelEntry, DeliveryProviderRow, Executor } from '../../store/index.js';
import { deliveryProviders, organisations } from '../../store/index.js';
import type { Actor } from '../actor.js';
import { recordAudit } from '../audit-log.js';
import type { RequestMeta, ServiceDeps } from '../context.js';
import { companyNameFor } from '../branding.js';
import { requireSudoAdmin } from '../step-up.js';
import { requireInTree } from '../tenancy.js';
import { CHANNEL_LABELS, channelStatus } from './channels.js';
import type { MessageSender } from './sender.js';
import { deliveryFailureDetails } from './sender.js';
import type { Principal } from '../principal.js';

export interface ProviderView {
  id: string;
  orgId: string;
  name: string;
  kind: string;
  /** Secrets redacted: "••••abcd". */
  config: ProviderConfig;
  createdAt: string;
  updatedAt: string;
}

export interface ChannelEntryView {
  channel: Channel;
  /** The organisation's own entry, if it has one. */
  own: { providerId: string | null; title: string; allowed: boolean; updatedAt: string } | null;
  /** What its users get: the nearest entry up the tree. */
  effective: { available: boolean; reason: string | null; fromOrgId: string | null; providerId: string | null; title: string | null };
}

export interface ChannelEntryInput {
  providerId: string | null;
  title: string;
  allowed: boolean;
}

/** The one answer to a failed test message, whatever the provider or the network said. */
export const TEST_FAILED = {
  code: 'delivery_failed',
  message: "The test message could not be delivered. Check the provider's settings; the server log has the details.",
} as const;

const NO_PROVIDER = { code: 'provider_not_found', message: 'No such provider.' } as const;

/** One JSON line on stdout, where the server's own log goes, in its shape (pino; level 40 is warn). */
const serverLog: DeliveryLog = (message, fields) => {
  process.stdout.write(`${JSON.stringify({ level: 40, time: Date.now(), msg: message, ...fields })}\n`);
};

/**
 * The Services Manager: delivery providers and the channel entries that bind them, per
 * organisation. Credentials are sealed at rest and only ever shown redacted; every change is
 * audited with redacted before/after values. Every method starts by requiring a signed-in admin
 * with sudo (requireSudoAdmin), before any transaction; then the organisation or provider must be
 * in the admin's tree (404 otherwise).
 */
export class ProviderAdminService {
  /** Where a failed test message's real reason goes: the server's log, which the operator reads and an organisation admin does not. */
  log: DeliveryLog = serverLog;

  constructor(
    private readonly deps: ServiceDeps,
    private readonly sender: MessageSender,
  ) {}

  private get db() {
    return this.deps.database.db;
  }

  /** Refuses a configuration that names a loopback, private or other internal address, unless the operator allows those. */
  private checkAddresses(config: ProviderConfig): void {
    checkProviderAddresses(config, this.deps.settings.deliveryAllowPrivate === true);
  }

  async list(actor: Actor, orgId: string): Promise<{ providers: ProviderView[]; channels: ChannelEntryView[] }> {
    const admin = await requireSudoAdmin(this.deps, actor);
    await requireInTree(this.db, admin, orgId);
    const rows = await deliveryProviders.listProviders(this.db, [orgId]);
    const own = await deliveryProviders.listChannelEntries(this.db, [orgId]);
    const channels: ChannelEntryView[] = [];
    for (const channel of CHANNELS) channels.push(await this.channelView(this.db, orgId, channel, own));
    return { providers: rows.map((r) => this.view(r)), channels };
  }

  async get(actor: Actor, providerId: string): Promise<ProviderView> {
    const admin = await requireSudoAdmin(this.deps, actor);
    return this.view(await this.ownedProvider(this.db, admin, providerId));
  }

  async create(actor: Actor, orgId: string, input: { name: string; config: unknown }, meta: RequestMeta): Promise<ProviderView> {
    const admin = await requireSudoAdmin(this.deps, actor);
    const name = checkName(input.name);
    const config = parseProviderConfig(input.config);
    this.checkAddresses(config);
    return this.db.transaction().execute(async (trx) => {
      await requireInTree(trx, admin, orgId);
      const now = this.deps.clock();
      const id = randomUUID();
      const row: DeliveryProviderRow = { id, org_id: orgId, name, kind: config.kind, config_encrypted: this.sender.sealConfig(id, config), created_at: now, updated_at: now, updated_by: admin.id };
      await deliveryProviders.insertProvider(trx, row);
      await recordAudit(trx, now, { type: 'provider.created', actorUserId: admin.id, orgId, meta, details: { providerId: id, name, config: redactProviderConfig(config) } });
      return this.view(row);
    });
  }

  /** A secret left blank (or sent back redacted) keeps its stored value, unless where it is used changed. */
  async update(actor: Actor, providerId: string, input: { name?: string | undefined; config?: Record<string, unknown> | undefined }, meta: RequestMeta): Promise<ProviderView> {
    const admin = await requireSudoAdmin(this.deps, actor);
    return this.db.transaction().execute(async (trx) => {
      const row = await this.ownedProvider(trx, admin, providerId);
      const before = this.sender.readConfig(row);
      const name = input.name === undefined ? row.name : checkName(input.name);
      const config = input.config === undefined ? before : parseChangedConfig(before, input.config);
      if (config.kind !== before.kind) throw invalidInput('provider_kind_fixed', 'A provider keeps its kind. Create a new provider instead.');
      if (input.config !== undefined) this.checkAddresses(config);
      const now = this.deps.clock();
      await deliveryProviders.updateProvider(trx, providerId, { name, config_encrypted: this.sender.sealConfig(providerId, config), updated_at: now, updated_by: admin.id });
      await recordAudit(trx, now, {
        type: 'provider.changed',
        actorUserId: admin.id,
        orgId: row.org_id,
        meta,
        details: { providerId, before: { name: row.name, config: redactProviderConfig(before) }, after: { name, config: redactProviderConfig(config) } },
      });
      const updated = await deliveryProviders.findProvider(trx, providerId);
      return this.view(updated ?? row);
    });
  }

  async remove(actor: Actor, providerId: string, meta: RequestMeta): Promise<void> {
    const admin = await requireSudoAdmin(this.deps, actor);
    await this.db.transaction().execute(async (trx) => {
      const row = await this.ownedProvider(trx, admin, providerId);
      const using = await deliveryProviders.entriesUsingProvider(trx, providerId);
      if (using.length > 0) {
        throw conflict('provider_in_use', `This provider carries ${using.map((e) => CHANNEL_LABELS[e.channel].toLowerCase()).join(' and ')}; bind the channel to another provider first.`);
      }
      await deliveryProviders.deleteProvider(trx, providerId);
      await recordAudit(trx, this.deps.clock(), { type: 'provider.deleted', actorUserId: admin.id, orgId: row.org_id, meta, details: { providerId, name: row.name, kind: row.kind } });
    });
  }

  /**
   * "Send test message". A failure is answered with one generic `delivery_failed`, whatever went
   * wrong: the admin chooses where the provider connects, so echoing the socket error or the
   * remote answer (refused, reset, HTTP 500, an SMTP banner) would make this a port scanner. The
   * real reason goes to the server log; the audit event (which admins read) records only the failure.
   */
  async test(actor: Actor, providerId: string, input: { channel: Channel; to: string }, meta: RequestMeta): Promise<{ ok: true; attempts: number; providerMessageId: string | null }> {
    const admin = await requireSudoAdmin(this.deps, actor);
    const row = await this.ownedProvider(this.db, admin, providerId);
    const to = input.channel === 'sms' ? parsePhoneNumber('', input.to).e164 : parseEmailAddress(input.to);
    const company = await companyNameFor(this.deps, row.org_id);
    const base = { actorUserId: admin.id, orgId: row.org_id, meta };
    let result: RetryResult;
    try {
      result = await this.sender.deliver(this.sender.openProvider(row), {
        channel: input.channel,
        to,
        ...(input.channel === 'email' ? { subject: `${company}: test message` } : {}),
        text: `${company}: this is a test message from ${row.name}. If you received it, the provider works.`,
      });
    } catch (error) {
      const cause = error instanceof Error && error.cause instanceof Error ? { cause: error.cause.message } : {};
      this.log('provider test message failed', { providerId, orgId: row.org_id, kind: row.kind, channel: input.channel, ...deliveryFailureDetails(error), ...cause });
      await recordAudit(this.db, this.deps.clock(), { ...base, type: 'provider.tested', details: { providerId, channel: input.channel, ok: false } });
      throw unavailable(TEST_FAILED.code, TEST_FAILED.message);
    }
    await recordAudit(this.db, this.deps.clock(), { ...base, type: 'provider.tested', details: { providerId, channel: input.channel, ok: true, attempts: result.attempts } });
    return { ok: true, attempts: result.attempts, providerMessageId: result.providerMessageId ?? null };
  }

  async setChannel(actor: Actor, orgId: string, channel: Channel, input: ChannelEntryInput, meta: RequestMeta): Promise<ChannelEntryView> {
    const admin = await requireSudoAdmin(this.deps, actor);
    const title = input.title.trim();
    if (title === '' || title.length > 80) throw invalidInput('title_invalid', 'Give the entry a title of 1 to 80 characters.');
    return this.db.transaction().execute(async (trx) => {
      await requireInTree(trx, admin, orgId);
      if (input.providerId !== null) {
        const provider = await deliveryProviders.findProvider(trx, input.providerId);
        // A channel may use a provider of this organisation or of one above it, if the admin manages that one too.
        const chain = await organisations.ancestorIds(trx, orgId);
        const actorChainStart = chain.indexOf(admin.org_id);
        const usable = provider && actorChainStart >= 0 && chain.slice(0, actorChainStart + 1).includes(provider.org_id);
        if (!provider || !usable) throw notFound(NO_PROVIDER.code, NO_PROVIDER.message);
        if (!this.sender.openProvider(provider).channels.includes(channel)) {
          throw invalidInput('provider_channel_mismatch', `${provider.name} cannot carry ${CHANNEL_LABELS[channel].toLowerCase()}s.`);
        }
      }
      const before = await deliveryProviders.findChannelEntry(trx, orgId, channel);
      const now = this.deps.clock();
      const row: ChannelEntry = { org_id: orgId, channel, provider_id: input.providerId, title, allowed: input.allowed, updated_at: now, updated_by: admin.id };
      await deliveryProviders.upsertChannelEntry(trx, row);
      const base = { actorUserId: admin.id, orgId, meta };
      await recordAudit(trx, now, {
        ...base,
        type: 'channel.changed',
        details: { channel, before: before ? { providerId: before.provider_id, title: before.title, allowed: before.allowed } : null, after: { providerId: input.providerId, title, allowed: input.allowed } },
      });
      if ((before?.allowed ?? false) !== input.allowed) await recordAudit(trx, now, { ...base, type: input.allowed ? 'channel.allowed' : 'channel.disallowed', details: { channel } });
      return this.channelView(trx, orgId, channel, [row]);
    });
  }

  private async channelView(db: Executor, orgId: string, channel: Channel, own: ChannelEntry[]): Promise<ChannelEntryView> {
    const mine = own.find((e) => e.channel === channel && e.org_id === orgId);
    const status = await channelStatus(db, orgId, channel);
    return {
      channel,
      own: mine ? { providerId: mine.provider_id, title: mine.title, allowed: mine.allowed, updatedAt: new Date(mine.updated_at).toISOString() } : null,
      effective: {
        available: status.available,
        reason: status.reason ?? null,
        fromOrgId: status.entry?.org_id ?? null,
        providerId: status.entry?.provider_id ?? null,
        title: status.entry?.title ?? null,
      },
    };
  }

  /** The provider, if the (already checked) admin manages its organisation; otherwise 404. */
  private async ownedProvider(db: Executor, admin: Principal, providerId: string): Promise<DeliveryProviderRow> {
    const row = await deliveryProviders.findProvider(db, providerId);
    if (!row) throw notFound(NO_PROVIDER.code, NO_PROVIDER.message);
    await requireInTree(db, admin, row.org_id, NO_PROVIDER);
    return row;
  }

  private view(row: DeliveryProviderRow): ProviderView {
    return {
      id: row.id,
      orgId: row.org_id,
      name: row.name,
      kind: row.kind,
      config: redactProviderConfig(this.sender.readConfig(row)),
      createdAt: new Date(row.created_at).toISOString(),
      updatedAt: new Date(row.updated_at).toISOString(),
    };
  }
}

/**
 * The edited configuration with kept secrets filled in. When a secret left blank was not kept
 * (the host, URL or account it belongs to changed), the parser's complaint about the missing
 * field would not say why; the admin is told to type it again instead.
 */
function parseChangedConfig(before: ProviderConfig, input: Record<string, unknown>): ProviderConfig {
  const merged = mergeProviderSecrets(before, input);
  try {
    return parseProviderConfig(merged);
  } catch (error) {
    const stored = before as unknown as Record<string, unknown>;
    const dropped = before.kind === input.kind ? SECRET_FIELDS[before.kind].filter((name) => typeof stored[name] === 'string' && stored[name] !== '' && merged[name] !== stored[name] && !isTyped(input[name], stored[name] as string)) : [];
    if (dropped.length === 0) throw error;
    throw invalidInput('provider_config_invalid', `Where this provider sends changed, so type the ${dropped.map(secretLabel).join(' and ')} again: a saved secret is never sent to a new place.`);
  }
}

/** A secret the admin actually typed, as opposed to one left blank or sent back as shown. */
function isTyped(value: unknown, stored: string): boolean {
  return typeof value === 'string' && value !== '' && value !== redactSecret(stored);
}

function secretLabel(field: string): string {
  return field === 'password' ? 'password' : field.replace(/([A-Z])/g, ' $1').toLowerCase();
}

function checkName(name: string): string {
  const trimmed = name.trim();
  if (trimmed === '' || trimmed.length > 80) throw invalidInput('name_invalid', 'Give the provider a name of 1 to 80 characters.');
  return trimmed;
}
