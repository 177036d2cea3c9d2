/**
 * Faults for tests on the Graph emulator (local/graph-sandbox/emulator.ts), through its one hook,
 * `intercept`: a log of every call, Graph errors answered instead of the emulator for matching calls,
 * and a delay on every answer. Changes on Meta's side (a revoked token, a silent unsubscribe) are the
 * emulator's own methods, not faults.
 */
import { setTimeout as delay } from 'node:timers/promises';
import {
  type GraphCall,
  GraphEmulator,
  type GraphEmulatorOptions,
  type GraphError,
} from '#local/graph-sandbox/emulator';

export type { GraphCall, GraphError } from '#local/graph-sandbox/emulator';

export interface ErrorMatch {
  method?: string;
  /** Compared with the path without the version: a string must equal it, a RegExp must match it. */
  path: string | RegExp;
  /** How many matching calls fail (default 1). */
  times?: number;
}

export interface FaultOptions {
  /** Delay every answer by this many ms. */
  latencyMs?: number;
}

/** Attaches to an emulator (taking its `intercept` hook) and records and disturbs its calls. */
export class GraphFaults {
  /** Every call the emulator received, in order (clear it with `calls.length = 0`). */
  readonly calls: GraphCall[] = [];
  private readonly errors: Array<{ match: ErrorMatch; error: GraphError; left: number }> = [];

  constructor(
    emulator: GraphEmulator,
    private readonly opts: FaultOptions = {},
  ) {
    emulator.intercept((call) => this.onCall(call));
  }

  /** The next `times` calls matching answer this error before any other check. */
  injectError(match: ErrorMatch, error: GraphError): void {
    this.errors.push({ match, error, left: match.times ?? 1 });
  }

  private async onCall(call: GraphCall): Promise<GraphError | undefined> {
    this.calls.push(call);
    if (this.opts.latencyMs) await delay(this.opts.latencyMs);
    const hit = this.errors.find(({ match, left }) => left > 0 && matches(match, call));
    if (!hit) return undefined;
    hit.left -= 1;
    return hit.error;
  }
}

function matches(match: ErrorMatch, call: GraphCall): boolean {
  if (match.method && match.method.toUpperCase() !== call.method) return false;
  return typeof match.path === 'string' ? match.path === call.path : match.path.test(call.path);
}

/** The emulator with faults attached: what most tests start. */
export class GraphFake extends GraphEmulator {
  private readonly faults: GraphFaults;

  constructor(opts: GraphEmulatorOptions & FaultOptions) {
    super(opts);
    this.faults = new GraphFaults(this, opts);
  }

  get calls(): GraphCall[] {
    return this.faults.calls;
  }

  injectError(match: ErrorMatch, error: GraphError): void {
    this.faults.injectError(match, error);
  }
}
