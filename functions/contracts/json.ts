import * as z from 'zod/mini';

export type JsonObject = Record<string, unknown>;

/** A JSON object (not null, not an array). */
export function isJsonObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A JSON object taken as it is: checked, not copied, so raw webhook events stay verbatim. */
export const JsonObject = z.custom<JsonObject>(isJsonObject, 'expected an object');

/**
 * One line for a failed parse: the first issue's path and what was wrong, with no input quoted (the
 * input may be a person's message). zod/mini loads no locale, so this does not use `issue.message`.
 */
export function issueSummary(error: z.core.$ZodError, what = 'body'): string {
  const issue = error.issues[0];
  if (!issue) return `${what}: invalid`;
  const where = issue.path.length ? issue.path.map(String).join('.') : what;
  return 'expected' in issue && issue.expected
    ? `${where}: expected ${issue.expected}`
    : `${where}: ${issue.code}`;
}
