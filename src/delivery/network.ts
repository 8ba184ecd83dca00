/**
 * Where a provider may connect to. An organisation admin chooses provider hosts and URLs, so
 * without a rule they could make the server talk to its own ports or to the network behind it.
 * The rule: public addresses only, unless the operator sets TWOFOLD_DELIVERY_ALLOW_PRIVATE=true
 * (a relay on the same host or network, tests).
 *
 * It is applied twice:
 * - when a configuration is saved: an IP address written in the host or URL, and `localhost`
 *   names, are refused with a clear answer (`hostAllowedForSaving`);
 * - when connecting: the socket's own `lookup` resolves the name, checks every address it got and
 *   connects only to those (`checkedLookup`), and an IP literal is checked before connecting
 *   (`checkLiteralHost`). A name that resolved to a public address when it was saved and to
 *   127.0.0.1 now (DNS rebinding) gains nothing: what is checked is what is connected to.
 *
 * Not public: loopback, private (RFC 1918), CGNAT, link-local, unique-local, multicast,
 * unspecified, documentation, benchmarking and reserved ranges, IPv4-mapped and NAT64 forms of
 * those, every IPv6 address outside 2000::/3, and the addresses of this machine's own interfaces.
 */
import dns from 'node:dns';
import type { LookupAddress, LookupAllOptions } from 'node:dns';
import { BlockList, isIP } from 'node:net';
import type { LookupFunction } from 'node:net';
import { networkInterfaces } from 'node:os';

/** Ranges of the IANA IPv4 special-purpose registry that are not globally reachable, plus multicast. */
const IPV4_NOT_PUBLIC: ReadonlyArray<readonly [string, number]> = [
  ['0.0.0.0', 8], // "this network"; 0.0.0.0 reaches this host
  ['10.0.0.0', 8], // private
  ['100.64.0.0', 10], // shared address space (CGNAT)
  ['127.0.0.0', 8], // loopback
  ['169.254.0.0', 16], // link-local (cloud metadata services live here)
  ['172.16.0.0', 12], // private
  ['192.0.0.0', 24], // IETF protocol assignments
  ['192.0.2.0', 24], // documentation
  ['192.88.99.0', 24], // 6to4 relay anycast (deprecated)
  ['192.168.0.0', 16], // private
  ['198.18.0.0', 15], // benchmarking
  ['198.51.100.0', 24], // documentation
  ['203.0.113.0', 24], // documentation
  ['224.0.0.0', 4], // multicast
  ['240.0.0.0', 4], // reserved, and 255.255.255.255
];

/** Inside 2000::/3 (global unicast), the ranges that are not ordinary public hosts. */
const IPV6_NOT_PUBLIC: ReadonlyArray<readonly [string, number]> = [
  ['2001::', 23], // IETF protocol assignments: Teredo, benchmarking, ORCHID, ...
  ['2001:db8::', 32], // documentation
  ['2002::', 16], // 6to4 (deprecated; embeds an IPv4 address)
  ['3fff::', 20], // documentation
];

const V4 = new BlockList();
for (const [network, prefix] of IPV4_NOT_PUBLIC) V4.addSubnet(network, prefix, 'ipv4');
const V6_GLOBAL = new BlockList();
V6_GLOBAL.addSubnet('2000::', 3, 'ipv6');
const V6 = new BlockList();
for (const [network, prefix] of IPV6_NOT_PUBLIC) V6.addSubnet(network, prefix, 'ipv6');

export const ADDRESS_NOT_ALLOWED = 'ERR_DELIVERY_ADDRESS_NOT_ALLOWED';

/** Raised by the connection-time checks; the providers turn it into a permanent DeliveryError. */
export class AddressNotAllowedError extends Error {
  readonly code = ADDRESS_NOT_ALLOWED;

  constructor(
    readonly host: string,
    readonly address: string | undefined,
  ) {
    super(`${host}${address && address !== host ? ` (${address})` : ''} is not a public address; delivery providers may not connect to it`);
    this.name = 'AddressNotAllowedError';
  }
}

/** True when `error`, or an error it wraps, is an AddressNotAllowedError. */
export function isAddressNotAllowed(error: unknown): boolean {
  for (let e: unknown = error, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    if (e instanceof AddressNotAllowedError || (e as { code?: unknown }).code === ADDRESS_NOT_ALLOWED) return true;
    if (e instanceof AggregateError && e.errors.some((inner) => isAddressNotAllowed(inner))) return true;
  }
  return false;
}

/** "[::1]" and "fe80::1%eth0" as a bare address: "::1", "fe80::1". */
function bare(host: string): string {
  return host.replace(/^\[(.*)\]$/, '$1').replace(/%.*$/, '');
}

type Parsed = { family: 4; address: string } | { family: 6; address: string; groups: number[] };

function ipv6Groups(address: string): number[] {
  let text = address.toLowerCase();
  const dotted = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (dotted) {
    const [a, b, c, d] = dotted.slice(1).map(Number) as [number, number, number, number];
    text = `${text.slice(0, dotted.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head = '', tail] = text.split('::');
  const left = head === '' ? [] : head.split(':');
  const right = tail === undefined || tail === '' ? [] : tail.split(':');
  const fill = tail === undefined ? 0 : 8 - left.length - right.length;
  return [...left, ...Array<string>(fill).fill('0'), ...right].map((g) => parseInt(g, 16));
}

/** The address with an IPv4 address carried in IPv6 (mapped ::ffff:a.b.c.d, NAT64 64:ff9b::/96) unwrapped. */
function parse(host: string): Parsed | undefined {
  const address = bare(host);
  const family = isIP(address);
  if (family === 4) return { family: 4, address };
  if (family !== 6) return undefined;
  const groups = ipv6Groups(address);
  const zeros = (from: number, to: number) => groups.slice(from, to).every((g) => g === 0);
  const mapped = zeros(0, 5) && groups[5] === 0xffff;
  const nat64 = groups[0] === 0x64 && groups[1] === 0xff9b && zeros(2, 6);
  if (mapped || nat64) {
    const [hi = 0, lo = 0] = groups.slice(6);
    return { family: 4, address: [hi >> 8, hi & 0xff, lo >> 8, lo & 0xff].join('.') };
  }
  return { family: 6, address, groups };
}

/** Whether `address` (an IPv4 or IPv6 literal, brackets allowed) is an ordinary public internet address. */
export function isPublicAddress(address: string): boolean {
  const parsed = parse(address);
  if (!parsed) return false;
  if (parsed.family === 4) return !V4.check(parsed.address, 'ipv4');
  return V6_GLOBAL.check(parsed.address, 'ipv6') && !V6.check(parsed.address, 'ipv6');
}

function key(parsed: Parsed): string {
  return parsed.family === 4 ? parsed.address : parsed.groups.join(':');
}

/** An address of one of this machine's interfaces: the server's own ports, even when public. */
function isOwnAddress(parsed: Parsed): boolean {
  const wanted = key(parsed);
  return Object.values(networkInterfaces()).some((infos) =>
    (infos ?? []).some((info) => {
      const own = parse(info.address);
      return own !== undefined && key(own) === wanted;
    }),
  );
}

/** Whether a provider may connect to `address` (an IP literal). */
export function isAddressAllowed(address: string, allowPrivate: boolean): boolean {
  if (allowPrivate) return true;
  const parsed = parse(address);
  return parsed !== undefined && isPublicAddress(parsed.address) && !isOwnAddress(parsed);
}

/**
 * Save-time check of a host name or IP literal from a configuration: false for a non-public IP
 * literal (in any spelling a URL parser accepts: 2130706433, 0x7f.1, [::ffff:127.0.0.1]) and for
 * `localhost` names. Other names are checked when connecting, where what they resolve to counts.
 */
export function hostAllowedForSaving(host: string, allowPrivate: boolean): boolean {
  if (allowPrivate) return true;
  let name = bare(host.trim().toLowerCase());
  if (isIP(name) === 0) {
    try {
      name = bare(new URL(`http://${name.includes(':') ? `[${name}]` : name}/`).hostname);
    } catch {
      return true; // not a host at all: the configuration's own validation says so
    }
  }
  name = name.replace(/\.$/, '');
  if (name === 'localhost' || name.endsWith('.localhost')) return false;
  return isIP(name) === 0 || isAddressAllowed(name, false);
}

/** Throws AddressNotAllowedError when `host` is an IP literal a provider may not connect to. */
export function checkLiteralHost(host: string, allowPrivate: boolean): void {
  const address = bare(host);
  if (isIP(address) !== 0 && !isAddressAllowed(address, allowPrivate)) throw new AddressNotAllowedError(host, address);
}

/**
 * A `lookup` for net/tls/http sockets: resolves the name, refuses it when any address it resolves
 * to is not allowed (a mixed answer is not a public host), and hands the socket exactly the
 * addresses it checked. Sockets do not call `lookup` for an IP literal: see checkLiteralHost.
 */
export function checkedLookup(allowPrivate: boolean): LookupFunction {
  return (hostname, options, callback) => {
    const all: LookupAllOptions = { ...options, all: true };
    dns.lookup(hostname, all, (error, addresses: LookupAddress[]) => {
      if (error) return callback(error, '', 0);
      const refused = addresses.find((a) => !isAddressAllowed(a.address, allowPrivate));
      if (refused || addresses.length === 0) return callback(new AddressNotAllowedError(hostname, refused?.address), '', 0);
      if (options.all) return callback(null, addresses);
      const [first] = addresses as [LookupAddress];
      return callback(null, first.address, first.family);
    });
  };
}
