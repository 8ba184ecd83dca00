import type { Channel, ProviderKind } from '../../delivery/index.js';
import type { ManagedOrganisation } from '../admin-nav.js';
import { AdminNav, OrganisationPicker } from '../admin-nav.js';
import type { PageChrome } from '../layout.js';
import { Alert, CsrfField, Layout } from '../layout.js';
import { KIND_DESCRIPTIONS, KIND_LABELS, PROVIDER_FORM_FIELDS } from './admin-provider-form.js';

export const CHANNEL_NAMES: Record<Channel, string> = { email: 'Email', sms: 'Text message' };

export interface ProviderItem {
  id: string;
  name: string;
  kind: ProviderKind;
  /** Redacted configuration, label and value per set field. */
  summary: Array<{ label: string; value: string }>;
  channels: readonly Channel[];
}

export interface ChannelItem {
  channel: Channel;
  own: { providerId: string | null; title: string; allowed: boolean } | null;
  available: boolean;
  /** What users get, in a sentence. */
  state: string;
  /** The organisation whose entry decides, when it is not this one. */
  inheritedFrom: string | null;
  /** Providers this organisation may bind to the channel (its own and those above it the admin manages). */
  choices: Array<{ id: string; label: string }>;
}

export interface ServicesView {
  orgId: string;
  orgName: string;
  /** Every organisation this admin manages, for the picker. */
  organisations: ManagedOrganisation[];
  providers: ProviderItem[];
  channels: ChannelItem[];
}

const KIND_ORDER: readonly ProviderKind[] = ['smtp', 'twilio', 'cdyne', 'webhook', 'console', 'file'];

/** Which channels a kind of provider can carry; a webhook lists its own. */
export function providerChannels(kind: ProviderKind, config: Record<string, unknown>): readonly Channel[] {
  if (kind === 'smtp') return ['email'];
  if (kind === 'twilio' || kind === 'cdyne') return ['sms'];
  if (kind === 'webhook' && Array.isArray(config.channels)) return (config.channels as unknown[]).filter((c): c is Channel => c === 'email' || c === 'sms');
  return ['email', 'sms'];
}

/** A redacted configuration as label/value pairs, in the order of the form. */
export function configSummary(kind: ProviderKind, config: Record<string, unknown>): Array<{ label: string; value: string }> {
  const out: Array<{ label: string; value: string }> = [];
  for (const field of PROVIDER_FORM_FIELDS[kind]) {
    const value = config[field.name];
    if (value === undefined || value === null || value === '' || value === false) continue;
    if (field.input === 'select') out.push({ label: field.label, value: field.options?.find((o) => o.value === value)?.label ?? String(value) });
    else if (field.input === 'checkbox') out.push({ label: field.label, value: 'yes' });
    else if (Array.isArray(value)) out.push({ label: field.label, value: value.map((c) => CHANNEL_NAMES[c as Channel] ?? String(c)).join(', ') });
    else out.push({ label: field.label, value: String(value) });
  }
  return out;
}

export function AdminServicesPage(props: { chrome: PageChrome; view: ServicesView; notice?: string | undefined; error?: string | undefined }) {
  const v = props.view;
  const csrf = <CsrfField token={props.chrome.csrf} />;
  const org = <input type="hidden" name="org" value={v.orgId} />;
  return (
    <Layout {...props.chrome}>
      <div class="admin-wide">
        <AdminNav current="services" />
        <h1 class="page-title">Services</h1>
        <p class="lead">
          How {v.orgName} sends codes and notices: delivery providers, and which one carries each channel.
        </p>
        <OrganisationPicker action="/admin/services" organisations={v.organisations} selected={v.orgId} />
        {props.notice ? <Alert kind="info">{props.notice}</Alert> : null}
        {props.error ? <Alert kind="error">{props.error}</Alert> : null}

        <section class="card" aria-labelledby="channels-title">
          <h2 id="channels-title">Channels</h2>
          {v.channels.map((c) => {
            const name = CHANNEL_NAMES[c.channel];
            const headingId = `channel-${c.channel}-title`;
            return (
              <div class="channel" key={c.channel} role="group" aria-labelledby={headingId} data-channel={c.channel}>
                <h3 id={headingId}>{name}</h3>
                <p class="status" data-testid={`channel-${c.channel}-state`}>
                  {c.available ? <span class="badge ok">Available</span> : <span class="badge">Unavailable</span>}{' '}
                  <span>
                    {c.state}
                    {c.inheritedFrom ? ` Inherited from ${c.inheritedFrom}.` : null}
                  </span>
                </p>
                <form method="post" action={`/admin/services/channels/${c.channel}`}>
                  {csrf}
                  {org}
                  <label for={`provider-${c.channel}`}>Provider</label>
                  <select id={`provider-${c.channel}`} name="providerId">
                    <option value="" selected={!c.own?.providerId}>
                      None
                    </option>
                    {c.choices.map((p) => (
                      <option key={p.id} value={p.id} selected={c.own?.providerId === p.id}>
                        {p.label}
                      </option>
                    ))}
                  </select>
                  <label for={`title-${c.channel}`}>Title shown to users</label>
                  <input id={`title-${c.channel}`} name="title" type="text" required maxLength={80} value={c.own?.title ?? name} />
                  <label class="check">
                    <input type="checkbox" name="allowed" value="on" checked={c.own?.allowed === true} /> Allowed for two-step verification
                  </label>
                  {c.own === null && c.inheritedFrom ? <p class="hint">Saving gives {v.orgName} its own entry in place of the inherited one.</p> : null}
                  <button type="submit" class="secondary">
                    Save {name.toLowerCase()}
                  </button>
                </form>
              </div>
            );
          })}
        </section>

        <section class="card" aria-labelledby="providers-title">
          <h2 id="providers-title">Providers</h2>
          {v.providers.length === 0 ? (
            <p class="muted">No providers yet. Add one below, then bind a channel to it.</p>
          ) : (
            <ul class="items">
              {v.providers.map((p) => (
                <li key={p.id} data-provider={p.id}>
                  <div class="grow">
                    <div class="name">
                      {p.name} <span class="badge">{KIND_LABELS[p.kind]}</span>
                    </div>
                    {p.summary.length > 0 ? (
                      <dl class="summary">
                        {p.summary.map((s) => (
                          <div key={s.label}>
                            <dt>{s.label}</dt>
                            <dd>{s.value}</dd>
                          </div>
                        ))}
                      </dl>
                    ) : null}
                    <details class="test">
                      <summary>Send test message</summary>
                      <form method="post" action={`/admin/services/providers/${p.id}/test`}>
                        {csrf}
                        {p.channels.length > 1 ? (
                          <>
                            <label for={`test-channel-${p.id}`}>Channel</label>
                            <select id={`test-channel-${p.id}`} name="channel">
                              {p.channels.map((c) => (
                                <option key={c} value={c}>
                                  {CHANNEL_NAMES[c]}
                                </option>
                              ))}
                            </select>
                          </>
                        ) : (
                          <input type="hidden" name="channel" value={p.channels[0] ?? 'email'} />
                        )}
                        <label for={`test-to-${p.id}`}>{p.channels.length > 1 ? 'Send to (email address or phone number)' : p.channels[0] === 'sms' ? 'Send to phone number' : 'Send to email address'}</label>
                        <input id={`test-to-${p.id}`} name="to" type="text" required maxLength={254} placeholder={p.channels[0] === 'sms' ? '+14155552671' : 'you@example.com'} />
                        <button type="submit" class="secondary">
                          Send test message
                        </button>
                      </form>
                    </details>
                  </div>
                  <div class="item-actions">
                    <a href={`/admin/services/providers/${p.id}/edit`} aria-label={`Edit ${p.name}`}>
                      Edit
                    </a>
                    <form method="post" action={`/admin/services/providers/${p.id}/delete`} class="inline">
                      {csrf}
                      <button type="submit" class="link" aria-label={`Delete ${p.name}`}>
                        Delete
                      </button>
                    </form>
                  </div>
                </li>
              ))}
            </ul>
          )}
          <h3>Add provider</h3>
          <ul class="kinds">
            {KIND_ORDER.map((kind) => (
              <li key={kind}>
                <a href={`/admin/services/providers/new?kind=${kind}&org=${encodeURIComponent(v.orgId)}`}>Add {KIND_LABELS[kind]}</a>
                <span class="muted"> {KIND_DESCRIPTIONS[kind]}</span>
              </li>
            ))}
          </ul>
        </section>
      </div>
    </Layout>
  );
}
