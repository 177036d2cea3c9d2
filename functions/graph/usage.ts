/**
 * Meta's rate-limit usage headers (SPEC §5): `X-App-Usage` and `X-Ad-Account-Usage`-style
 * `{"call_count":n,"total_cputime":n,"total_time":n}` (percent of the app's allowance), and
 * `X-Business-Use-Case-Usage` `{"<business id>":[{"call_count":n,"total_cputime":n,"total_time":n,…}]}`.
 * The highest percentage any of them reports, or undefined when none is sent or readable. Callers that
 * can wait (the doctor) slow down before Meta throttles them.
 */
const METERS = ['call_count', 'total_cputime', 'total_time'] as const;

export function usagePercent(headers: Pick<Headers, 'get'>): number | undefined {
  const readings = [
    ...metersOf(parse(headers.get('x-app-usage'))),
    ...metersOf(parse(headers.get('x-page-usage'))),
    ...Object.values(asRecord(parse(headers.get('x-business-use-case-usage'))))
      .flatMap((v) => (Array.isArray(v) ? v : []))
      .flatMap(metersOf),
  ];
  return readings.length ? Math.max(...readings) : undefined;
}

function metersOf(value: unknown): number[] {
  const record = asRecord(value);
  return METERS.map((m) => Number(record[m])).filter((n) => Number.isFinite(n) && n >= 0);
}

function asRecord(value: unknown): Record<string, unknown> {
  return value && typeof value === 'object' && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : {};
}

function parse(header: string | null): unknown {
  if (!header) return undefined;
  try {
    return JSON.parse(header);
  } catch {
    return undefined;
  }
}
