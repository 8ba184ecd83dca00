import type { PageChrome } from '../layout.js';
import { Alert, CsrfField, Layout } from '../layout.js';
import type { Stamp } from '../security-nav.js';
import { SecurityNav, When } from '../security-nav.js';

export interface DeviceRow {
  id: string;
  label: string;
  deviceType: string | null;
  userAgent: string;
  firstSeenAt: Stamp;
  lastSeenAt: Stamp;
  lastIp: string;
  signInCount: number;
  blockedAt: Stamp | null;
  current: boolean;
}

export interface LocationRow {
  id: string;
  label: string;
  lastCity: string | null;
  firstSeenAt: Stamp;
  lastSeenAt: Stamp;
  lastIp: string;
  signInCount: number;
  blockedAt: Stamp | null;
  current: boolean;
}

export interface DevicesView {
  devices: DeviceRow[];
  locations: LocationRow[];
  notifications: { newDevice: boolean; newLocation: boolean };
  timeZone: string;
}

const times = (n: number) => (n === 1 ? '1 sign-in' : `${n} sign-ins`);

/** When a device or place was first and last seen, and blocked if it is. */
function SeenLine(props: { firstSeenAt: Stamp; lastSeenAt: Stamp; blockedAt: Stamp | null }) {
  return (
    <div class="meta">
      First seen <When at={props.firstSeenAt} /> · last seen <When at={props.lastSeenAt} />
      {props.blockedAt ? (
        <>
          {' '}
          · blocked <When at={props.blockedAt} />
        </>
      ) : null}
    </div>
  );
}

function BlockForm(props: { kind: 'devices' | 'locations'; id: string; blocked: boolean; name: string; csrf: string }) {
  // Blocking a whole place is confirmed on a page of its own, which says what it shuts out.
  if (props.kind === 'locations' && !props.blocked) {
    return (
      <a href={`/account/security/locations/${props.id}/block`} aria-label={`Block ${props.name}`}>
        Block
      </a>
    );
  }
  return (
    <form method="post" action={`/account/security/${props.kind}/${props.id}/${props.blocked ? 'unblock' : 'block'}`} class="inline">
      <CsrfField token={props.csrf} />
      <button type="submit" class="link" aria-label={`${props.blocked ? 'Unblock' : 'Block'} ${props.name}`}>
        {props.blocked ? 'Unblock' : 'Block'}
      </button>
    </form>
  );
}

export function DevicesPage(props: { chrome: PageChrome; view: DevicesView; notice?: string | undefined; error?: string | undefined }) {
  const v = props.view;
  const csrf = props.chrome.csrf;
  return (
    <Layout {...props.chrome}>
      <SecurityNav current="devices" />
      <h1 class="page-title">Devices and locations</h1>
      {props.notice ? <Alert kind="info">{props.notice}</Alert> : null}
      {props.error ? <Alert kind="error">{props.error}</Alert> : null}

      <section class="card" aria-labelledby="devices-title">
        <h2 id="devices-title">Your devices</h2>
        <p class="muted">Every browser that completed a sign-in. Blocking one signs it out and refuses its sign-ins before the password is checked.</p>
        {v.devices.length === 0 ? (
          <p class="muted">No device yet.</p>
        ) : (
          <ul class="items devices">
            {v.devices.map((d) => (
              <li key={d.id} data-device-id={d.id}>
                <div class="grow">
                  <div class="name" title={d.userAgent}>
                    {d.label}
                    {d.current ? <> <span class="badge ok">This device</span></> : null}
                    {d.blockedAt ? <> <span class="badge danger">Blocked</span></> : null}
                  </div>
                  <div class="meta">
                    {d.deviceType ? `${d.deviceType} · ` : ''}
                    {times(d.signInCount)} · last from {d.lastIp}
                  </div>
                  <SeenLine firstSeenAt={d.firstSeenAt} lastSeenAt={d.lastSeenAt} blockedAt={d.blockedAt} />
                </div>
                {d.current && !d.blockedAt ? null : <BlockForm kind="devices" id={d.id} blocked={d.blockedAt !== null} name={d.label} csrf={csrf} />}
              </li>
            ))}
          </ul>
        )}
      </section>

      <section class="card" aria-labelledby="locations-title">
        <h2 id="locations-title">Your locations</h2>
        <p class="muted">Places you signed in from, by region. Blocking one signs out its sessions and refuses sign-ins from there.</p>
        {v.locations.length === 0 ? (
          <p class="muted">No location yet: sign-ins from private networks have none.</p>
        ) : (
          <ul class="items locations">
            {v.locations.map((l) => (
              <li key={l.id} data-location-id={l.id}>
                <div class="grow">
                  <div class="name">
                    {l.label}
                    {l.current ? <> <span class="badge ok">You are here</span></> : null}
                    {l.blockedAt ? <> <span class="badge danger">Blocked</span></> : null}
                  </div>
                  <div class="meta">
                    {times(l.signInCount)} · last from {l.lastCity ? `${l.lastCity}, ` : ''}
                    {l.lastIp}
                  </div>
                  <SeenLine firstSeenAt={l.firstSeenAt} lastSeenAt={l.lastSeenAt} blockedAt={l.blockedAt} />
                </div>
                {l.current && !l.blockedAt ? null : <BlockForm kind="locations" id={l.id} blocked={l.blockedAt !== null} name={l.label} csrf={csrf} />}
              </li>
            ))}
          </ul>
        )}
      </section>

      <section class="card" aria-labelledby="notices-title">
        <h2 id="notices-title">Sign-in emails</h2>
        <form method="post" action="/account/security/notifications">
          <CsrfField token={csrf} />
          <fieldset class="choices">
            <legend>Email me when someone signs in</legend>
            <label class="check">
              <input type="checkbox" name="newDevice" value="1" checked={v.notifications.newDevice} /> from a new device
            </label>
            <label class="check">
              <input type="checkbox" name="newLocation" value="1" checked={v.notifications.newLocation} /> from a new location
            </label>
          </fieldset>
          <p class="hint">Attempts from a blocked device or location are always emailed. Times in emails use your time zone ({v.timeZone}).</p>
          <button type="submit" class="secondary">
            Save email settings
          </button>
        </form>
      </section>
    </Layout>
  );
}
