/**
 * Writes the small GeoIP databases under test/fixtures/geoip/ that the location tests read.
 * Run: node --import tsx scripts/make-geoip-fixture.ts
 *
 * No maintained MaxMind DB *writer* is published for JavaScript, and real databases change with
 * every release, so the tests use fixed, made-up data in documentation address ranges
 * (RFC 5737, RFC 3849) written here to the MaxMind DB format 2.0 specification. The output is
 * deterministic: test/services/geoip.test.ts checks the committed files still match this script.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { isIPv4 } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const FIXTURE_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', 'test', 'fixtures', 'geoip');

type Value = string | number | { [key: string]: Value } | Value[] | { uint16: number } | { uint64: number };

/** MaxMind DB data section encoding: a control byte (type, size), then the payload. */
function control(type: number, size: number): Buffer {
  const extended = type > 7;
  const typeBits = (extended ? 0 : type) << 5;
  const typeByte = extended ? [type - 7] : [];
  if (size < 29) return Buffer.from([typeBits | size, ...typeByte]);
  if (size < 285) return Buffer.from([typeBits | 29, ...typeByte, size - 29]);
  if (size < 65_821) return Buffer.from([typeBits | 30, ...typeByte, (size - 285) >> 8, (size - 285) & 0xff]);
  throw new Error('fixture values are small');
}

function uintBytes(value: number): Buffer {
  const bytes: number[] = [];
  for (let v = value; v > 0; v = Math.floor(v / 256)) bytes.unshift(v % 256);
  return Buffer.from(bytes);
}

function encode(value: Value): Buffer {
  if (typeof value === 'string') {
    const text = Buffer.from(value, 'utf8');
    return Buffer.concat([control(2, text.length), text]);
  }
  if (typeof value === 'number') {
    if (!Number.isInteger(value) || value < 0 || value > 0xffff_ffff) throw new Error(`not a uint32: ${value}`);
    const bytes = uintBytes(value);
    return Buffer.concat([control(6, bytes.length), bytes]);
  }
  if (Array.isArray(value)) return Buffer.concat([control(11, value.length), ...value.map(encode)]);
  if ('uint16' in value && typeof value.uint16 === 'number') {
    const bytes = uintBytes(value.uint16);
    return Buffer.concat([control(5, bytes.length), bytes]);
  }
  if ('uint64' in value && typeof value.uint64 === 'number') {
    const bytes = uintBytes(value.uint64);
    return Buffer.concat([control(9, bytes.length), bytes]);
  }
  const entries = Object.entries(value as Record<string, Value>);
  return Buffer.concat([control(7, entries.length), ...entries.flatMap(([k, v]) => [encode(k), encode(v)])]);
}

/** The network's leading bits, most significant first; IPv4 networks sit at ::/96 in an IPv6 tree. */
function networkBits(cidr: string, ipVersion: 4 | 6): number[] {
  const [address = '', prefixText = ''] = cidr.split('/');
  const prefix = Number(prefixText);
  let bytes: number[];
  if (isIPv4(address)) {
    bytes = address.split('.').map(Number);
    if (ipVersion === 6) bytes = [...new Array<number>(12).fill(0), ...bytes];
  } else {
    if (ipVersion === 4) throw new Error(`${cidr} is IPv6 but the tree is IPv4`);
    const [head = '', tail = ''] = address.split('::');
    const groups = (part: string) => (part ? part.split(':').map((g) => parseInt(g, 16)) : []);
    const left = groups(head);
    const right = groups(tail);
    const all = [...left, ...new Array<number>(8 - left.length - right.length).fill(0), ...right];
    bytes = all.flatMap((g) => [g >> 8, g & 0xff]);
  }
  const bits = bytes.flatMap((byte) => [7, 6, 5, 4, 3, 2, 1, 0].map((i) => (byte >> i) & 1));
  const offset = isIPv4(address) && ipVersion === 6 ? 96 : 0;
  return bits.slice(0, offset + prefix);
}

interface TrieNode {
  children: [TrieNode | number | null, TrieNode | number | null];
}

/** A MaxMind DB (record size 24) holding `networks`: CIDR -> record. Networks must not overlap. */
export function writeMmdb(ipVersion: 4 | 6, databaseType: string, networks: Record<string, Value>): Buffer {
  const dataOffsets = new Map<string, number>();
  const dataChunks: Buffer[] = [];
  let dataLength = 0;
  const root: TrieNode = { children: [null, null] };
  for (const [cidr, record] of Object.entries(networks)) {
    const encoded = encode(record);
    const key = encoded.toString('hex');
    let offset = dataOffsets.get(key);
    if (offset === undefined) {
      offset = dataLength;
      dataOffsets.set(key, offset);
      dataChunks.push(encoded);
      dataLength += encoded.length;
    }
    const bits = networkBits(cidr, ipVersion);
    let node = root;
    bits.forEach((bit, depth) => {
      const side = bit as 0 | 1;
      if (depth === bits.length - 1) {
        if (node.children[side] !== null) throw new Error(`${cidr} overlaps another network`);
        node.children[side] = offset;
        return;
      }
      const next = node.children[side];
      if (typeof next === 'number') throw new Error(`${cidr} overlaps another network`);
      if (next === null) {
        const created: TrieNode = { children: [null, null] };
        node.children[side] = created;
        node = created;
      } else {
        node = next;
      }
    });
  }

  const order: TrieNode[] = [];
  const numbers = new Map<TrieNode, number>();
  for (let queue = [root]; queue.length > 0; ) {
    const node = queue.shift() as TrieNode;
    numbers.set(node, order.length);
    order.push(node);
    for (const child of node.children) if (child !== null && typeof child !== 'number') queue.push(child);
  }
  const nodeCount = order.length;
  const recordValue = (child: TrieNode | number | null): number => {
    if (child === null) return nodeCount;
    if (typeof child === 'number') return nodeCount + 16 + child;
    return numbers.get(child) as number;
  };
  const tree = Buffer.alloc(nodeCount * 6);
  order.forEach((node, i) => {
    tree.writeUIntBE(recordValue(node.children[0]), i * 6, 3);
    tree.writeUIntBE(recordValue(node.children[1]), i * 6 + 3, 3);
  });

  const metadata = encode({
    node_count: nodeCount,
    record_size: { uint16: 24 },
    ip_version: { uint16: ipVersion },
    database_type: databaseType,
    languages: ['en'],
    binary_format_major_version: { uint16: 2 },
    binary_format_minor_version: { uint16: 0 },
    build_epoch: { uint64: 1_767_225_600 },
    description: { en: 'Twofold test data: made-up locations for documentation address ranges' },
  });
  return Buffer.concat([tree, Buffer.alloc(16), ...dataChunks, Buffer.from('abcdef4d61784d696e642e636f6d', 'hex'), metadata]);
}

function cityRecord(country: string, region?: [code: string, name: string], city?: string): Value {
  const record: Record<string, Value> = { country: { iso_code: country, names: { en: country } } };
  if (region) record.subdivisions = [{ iso_code: region[0], names: { en: region[1] } }];
  if (city) record.city = { names: { en: city } };
  return record;
}

/** File name -> contents. Shapes follow the real databases: MaxMind/DB-IP city records and ip-location-db `country_code`. */
export function buildGeoIpFixtures(): Map<string, Buffer> {
  return new Map([
    [
      'city.mmdb',
      writeMmdb(6, 'Twofold-Test-City', {
        '192.0.2.0/25': cityRecord('US', ['CA', 'California'], 'San Francisco'),
        '192.0.2.128/25': cityRecord('US', ['CA', 'California'], 'Los Angeles'),
        '198.51.100.0/24': cityRecord('US', ['NY', 'New York'], 'New York'),
        '203.0.113.0/24': cityRecord('GB', ['ENG', 'England'], 'London'),
        '2001:db8:1::/48': cityRecord('DE', ['BE', 'Berlin'], 'Berlin'),
        '2001:db8:2::/48': cityRecord('FR'),
      }),
    ],
    [
      // 32.0.0.0/8 is where an IPv6 address starting 2001:db8 lands when walked through an IPv4 tree.
      'country-ipv4.mmdb',
      writeMmdb(4, 'Twofold-Test-Country-IPv4', {
        '192.0.2.0/24': { country_code: 'NL' },
        '32.0.0.0/8': { country_code: 'BR' },
        // Data for private ranges, which real databases lack: the locator must not even ask.
        '10.0.0.0/8': { country_code: 'AQ' },
        '127.0.0.0/8': { country_code: 'AQ' },
      }),
    ],
    [
      'country-ipv6.mmdb',
      writeMmdb(6, 'Twofold-Test-Country-IPv6', {
        '2001:db8::/32': { country_code: 'JP' },
        'fc00::/7': { country_code: 'AQ' },
        'fe80::/10': { country_code: 'AQ' },
      }),
    ],
  ]);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  mkdirSync(FIXTURE_DIR, { recursive: true });
  for (const [name, contents] of buildGeoIpFixtures()) {
    writeFileSync(join(FIXTURE_DIR, name), contents);
    console.log(`wrote ${join(FIXTURE_DIR, name)} (${contents.length} bytes)`);
  }
}
