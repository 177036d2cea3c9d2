import { describe, expect, it } from 'vitest';
import { bearerMatches } from '#local/admin-auth';

const TOKEN = 'k3Q_s9-local-admin-token';

describe('bearerMatches (the local admin API)', () => {
  it.each([`Bearer ${TOKEN}`, `bearer ${TOKEN}`, `BEARER ${TOKEN}`, `bEaReR ${TOKEN}`, `Bearer   ${TOKEN}`])(
    'accepts %j: the scheme is case-insensitive (RFC 9110 §11.1)',
    (header) => {
      expect(bearerMatches(header, TOKEN)).toBe(true);
    },
  );

  it.each([
    undefined,
    '',
    TOKEN,
    'Bearer',
    'Bearer ',
    `Bearer${TOKEN}`,
    `Basic ${TOKEN}`,
    `Bearer ${TOKEN.toUpperCase()}`,
    `Bearer ${TOKEN}x`,
    `Bearer ${TOKEN.slice(0, -1)}`,
    `Bearer x${TOKEN}`,
  ])('refuses %j: the token itself is compared exactly', (header) => {
    expect(bearerMatches(header, TOKEN)).toBe(false);
  });

  it('refuses everything when no token is configured', () => {
    expect(bearerMatches('Bearer ', '')).toBe(false);
    expect(bearerMatches('Bearer x', '')).toBe(false);
  });
});
