import t from 'tap';
import fc from 'fast-check';
import {
  checkV2Token,
  makeV2Token,
  makeV2AuthorizationHeader,
  parseAuthorizationHeader,
  MAX_AUTHORIZATION_HEADER_LENGTH,
} from '../../src/auth/index.js';

const SECRET = 'topsecret';
const NOW_SEC = 1_700_000_000;
// Computed independently: printf 1700000000 | openssl dgst -sha256 -hmac topsecret
const KNOWN_SIGNATURE = 'a21fd4816ec741b58b2f890f9fff62579b0c122d02c78096b0a92bc4825c506b';

t.test('makeV2Token matches an independently computed HMAC', async (t) => {
  t.equal(makeV2Token(SECRET, NOW_SEC), `v2.${KNOWN_SIGNATURE}.${NOW_SEC}`);
  t.equal(makeV2AuthorizationHeader(SECRET, NOW_SEC), `Bearer v2.${KNOWN_SIGNATURE}.${NOW_SEC}`);
  t.throws(() => makeV2Token('', NOW_SEC), /secret must not be empty/);
  t.throws(() => makeV2Token(SECRET, 1.5), /non-negative integer/);
});

t.test('a fresh token is valid within ±30 s', async (t) => {
  const header = `Bearer ${makeV2Token(SECRET, NOW_SEC)}`;
  t.same(checkV2Token(header, SECRET, NOW_SEC), { ok: true });
  t.same(checkV2Token(header, SECRET, NOW_SEC + 30), { ok: true });
  t.same(checkV2Token(header, SECRET, NOW_SEC - 30), { ok: true });
  t.same(checkV2Token(`bearer ${makeV2Token(SECRET, NOW_SEC)}`, SECRET, NOW_SEC), { ok: true }, 'scheme is case-insensitive');
  t.same(checkV2Token(`Bearer v2.${KNOWN_SIGNATURE.toUpperCase()}.${NOW_SEC}`, SECRET, NOW_SEC), { ok: true }, 'upper-case hex');
});

t.test('an old token is expired', async (t) => {
  const check = checkV2Token(makeV2AuthorizationHeader(SECRET, NOW_SEC - 31), SECRET, NOW_SEC);
  t.match(check, { ok: false, reason: 'expired' });
});

t.test('a token from the future is not yet valid', async (t) => {
  const check = checkV2Token(makeV2AuthorizationHeader(SECRET, NOW_SEC + 31), SECRET, NOW_SEC);
  t.match(check, { ok: false, reason: 'not yet valid' });
});

t.test('a missing header', async (t) => {
  t.match(checkV2Token(undefined, SECRET, NOW_SEC), { ok: false, reason: 'missing' });
  t.match(checkV2Token('', SECRET, NOW_SEC), { ok: false, reason: 'missing' });
});

t.test('malformed headers', async (t) => {
  const token = makeV2Token(SECRET, NOW_SEC);
  const cases: Array<[string, RegExp]> = [
    [token, /Bearer <token>/],
    [`Basic ${token}`, /Bearer <token>/],
    ['Bearer', /Bearer <token>/],
    [`Bearer v1.${KNOWN_SIGNATURE}.${NOW_SEC}`, /only v2/],
    [`Bearer v2.${KNOWN_SIGNATURE}`, /v2\.<signature>\.<timestamp>/],
    [`Bearer v2.${KNOWN_SIGNATURE}.${NOW_SEC}.extra`, /v2\.<signature>\.<timestamp>/],
    [`Bearer v2.zz${KNOWN_SIGNATURE.slice(2)}.${NOW_SEC}`, /not hexadecimal/],
    [`Bearer v2.${KNOWN_SIGNATURE.slice(1)}.${NOW_SEC}`, /not hexadecimal/],
    [`Bearer v2..${NOW_SEC}`, /not hexadecimal/],
    [`Bearer v2.${KNOWN_SIGNATURE}.-5`, /decimal unix time/],
    [`Bearer v2.${KNOWN_SIGNATURE}.1e9`, /decimal unix time/],
    [`Bearer v2.${KNOWN_SIGNATURE}.`, /decimal unix time/],
    [`Bearer v2.${KNOWN_SIGNATURE}.1234567890123`, /decimal unix time/],
    [`Bearer ${'a'.repeat(MAX_AUTHORIZATION_HEADER_LENGTH)}`, /longer than/],
  ];
  for (const [header, detail] of cases) {
    t.match(checkV2Token(header, SECRET, NOW_SEC), { ok: false, reason: 'malformed', detail }, header.slice(0, 80));
  }
});

t.test('a token signed with another secret', async (t) => {
  const check = checkV2Token(makeV2AuthorizationHeader('other secret', NOW_SEC), SECRET, NOW_SEC);
  t.match(check, { ok: false, reason: 'signature mismatch' });
});

t.test('the signature is checked before the time window', async (t) => {
  const check = checkV2Token(makeV2AuthorizationHeader('other secret', NOW_SEC - 1000), SECRET, NOW_SEC);
  t.match(check, { ok: false, reason: 'signature mismatch' }, 'no clock information without the key');
});

t.test('a signature of the wrong length is a mismatch, not a throw', async (t) => {
  for (const signature of [KNOWN_SIGNATURE.slice(0, 62), `${KNOWN_SIGNATURE}00`, '00']) {
    const check = checkV2Token(`Bearer v2.${signature}.${NOW_SEC}`, SECRET, NOW_SEC);
    t.match(check, { ok: false, reason: 'signature mismatch' }, `${signature.length / 2} bytes`);
  }
});

t.test('an empty server secret is a programming error', async (t) => {
  t.throws(() => checkV2Token(makeV2AuthorizationHeader(SECRET, NOW_SEC), '', NOW_SEC), /secret must not be empty/);
});

t.test('fuzz: the header parser never throws, never accepts junk, never echoes the secret', async (t) => {
  const seed = process.env.FUZZ_SEED === undefined ? Date.now() ^ (process.pid << 8) : Number(process.env.FUZZ_SEED);
  t.comment(`fuzz seed ${seed} (replay with FUZZ_SEED=${seed})`);
  const valid = makeV2AuthorizationHeader(SECRET, NOW_SEC);
  const structured = fc
    .tuple(
      fc.constantFrom('Bearer ', 'bearer ', 'BEARER ', 'Bearer  ', 'Basic ', '', 'Bearer\t'),
      fc.constantFrom('v2', 'v1', 'V2', '', 'v2.v2'),
      fc.oneof(fc.stringMatching(/^[0-9a-fA-F]{0,70}$/), fc.constant(KNOWN_SIGNATURE), fc.string()),
      fc.oneof(fc.stringMatching(/^-?[0-9]{0,14}$/), fc.constant(String(NOW_SEC)), fc.string()),
      fc.constantFrom('.', '..', ''),
    )
    .map(([scheme, version, signature, ts, sep]) => `${scheme}${version}.${signature}${sep}${ts}`);
  const mutated = fc
    .tuple(fc.nat({ max: valid.length - 1 }), fc.string({ minLength: 0, maxLength: 3 }))
    .map(([index, insert]) => valid.slice(0, index) + insert + valid.slice(index + 1));
  const header = fc.oneof(fc.string({ maxLength: 600 }), fc.string({ unit: 'binary', maxLength: 100 }), structured, mutated);
  fc.assert(
    fc.property(header, fc.integer({ min: NOW_SEC - 100, max: NOW_SEC + 100 }), (value, nowSec) => {
      parseAuthorizationHeader(value);
      const check = checkV2Token(value, SECRET, nowSec);
      if (check.ok) return isEquivalentValidToken(value, nowSec);
      return !check.detail.includes(SECRET) && !check.reason.includes(SECRET);
    }),
    { seed, numRuns: 5000 },
  );
  t.pass('5000 headers checked');
});

// Accepted headers must carry the real signature of a timestamp in the window.
function isEquivalentValidToken(header: string, nowSec: number): boolean {
  const match = /^bearer v2\.([0-9a-f]{64})\.([0-9]+)$/i.exec(header);
  if (match === null) return false;
  const ts = Number(match[2]);
  const expected = makeV2Token(SECRET, ts).split('.')[1];
  return match[1]?.toLowerCase() === expected && Math.abs(ts - nowSec) <= 30;
}
