/** Where the CLI writes: results on stdout, diagnostics on stderr; secrets are masked in both. */
export interface Stream {
  isTTY?: boolean;
  write(chunk: string): unknown;
}

export class Output {
  private readonly secrets = new Set<string>();

  constructor(
    readonly stdout: Stream = process.stdout,
    readonly stderr: Stream = process.stderr,
  ) {}

  /** A value that must never be printed (tokens): masked wherever it would appear. */
  secret(value: string | undefined): void {
    if (value && value.length >= 4) this.secrets.add(value);
  }

  out(text: string): void {
    this.stdout.write(`${this.mask(text)}\n`);
  }

  err(text: string): void {
    this.stderr.write(`${this.mask(text)}\n`);
  }

  private mask(text: string): string {
    let masked = text;
    for (const s of this.secrets) masked = masked.split(s).join('[redacted]');
    return masked;
  }
}

/** Text that came from the server, made safe for one table cell: no control characters, no newlines. */
export function cell(value: unknown): string {
  if (value === undefined || value === null || value === '') return '-';
  const text = typeof value === 'string' ? value : String(value);
  // biome-ignore lint/suspicious/noControlCharactersInRegex: stripping them is the point
  return text.replace(/[\u0000-\u001f\u007f-\u009f]+/g, ' ').trim() || '-';
}

/** Left-aligned columns separated by two spaces; the last column is not padded. */
export function table(headers: string[], rows: unknown[][]): string {
  const cells = [headers, ...rows.map((r) => r.map(cell))];
  const widths = headers.map((_, i) => Math.max(...cells.map((r) => r[i]?.length ?? 0)));
  return cells
    .map((r) =>
      r
        .map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i] ?? 0)))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}
