/**
 * Turns bench/results.json into bench/PERFORMANCE.md (method and every table) and the summary table
 * `npm run bench` prints. `tsx bench/report.ts` rewrites PERFORMANCE.md from the last results without
 * running anything; `tsx bench/report.ts --markdown` prints the summary as Markdown for the docs.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { MAX_BATCHES_IN_FLIGHT } from '#adapters/aws/sqs-event-queue';
import type { BodyLimitResult } from './body-limit.js';
import type { ChaosResult } from './chaos.js';
import type { ColdStartResult } from './cold-start.js';
import type { CostResult } from './cost.js';
import type { DoctorBenchResult } from './doctor.js';
import type { ThroughputResult } from './local-throughput.js';
import type { MediaBenchResult } from './media.js';
import { PRICES } from './prices.js';
import type { ResubscribeRow } from './resubscribe-all.js';
import { ratio } from './stats.js';
import type { VerifierResult } from './verifier.js';
import type { VerifierQueueResult } from './verifier-queue.js';

export interface Results {
  machine: { cpu: string; cores: number; memoryGb: number; node: string; platform: string };
  run: { at: string; durationSeconds: number; benchSeconds: Record<string, number>; ran: string[] };
  verifier?: VerifierResult;
  verifierQueue?: VerifierQueueResult;
  coldStart?: ColdStartResult;
  awsRequestsPerMessage?: CostResult['awsRequestsPerMessage'];
  costPerMillion?: CostResult['costPerMillion'] &
    Partial<Omit<CostResult, 'awsRequestsPerMessage' | 'costPerMillion'>>;
  resubscribeAll?: { rows: ResubscribeRow[]; seedSeconds: number };
  doctor?: DoctorBenchResult;
  localThroughput?: ThroughputResult;
  chaos?: ChaosResult;
  bodyLimit?: BodyLimitResult;
  media?: MediaBenchResult;
}

export interface SummaryRow {
  figure: string;
  value: number | string;
  reference: number | string;
  ratio: number | string;
  target: string;
  ok: string;
}

const mark = (ok: boolean | undefined) => (ok === undefined ? '' : ok ? 'yes' : 'NO');

/** One line per figure: value, reference, ratio, target. */
export function summaryRows(r: Results): SummaryRow[] {
  const rows: SummaryRow[] = [];
  for (const v of r.verifier?.rows ?? []) {
    rows.push({
      figure: `verifier µs/POST, ${v.events} event(s) (vs HMAC+parse)`,
      value: v.handlerMicros,
      reference: v.floorMicros,
      ratio: v.ratio,
      target: v.targetRatio ? `≤ ${v.targetRatio}` : '',
      ok: mark(v.targetRatio ? v.ratio <= v.targetRatio : undefined),
    });
  }
  const q = r.verifierQueue;
  for (const v of q?.rows ?? []) {
    rows.push({
      figure: `ms to answer a POST of ${v.events} event(s), SQS ${q?.latencyMs} ms a call (vs one call)`,
      value: v.ms,
      reference: q?.roundTripMs ?? '',
      ratio: v.ratio,
      target: v.targetRatio ? `≤ ${v.targetRatio}` : '',
      ok: mark(v.ok),
    });
  }
  for (const c of r.coldStart?.rows ?? []) {
    rows.push({
      figure: `cold start ms over bare node: ${c.function} (${Math.round(c.bundleBytes / 1024)} KB)`,
      value: c.initMs,
      reference: c.targetMs,
      ratio: c.ratio,
      target: `≤ ${c.targetMs} ms`,
      ok: mark(c.initMs <= c.targetMs),
    });
  }
  for (const [k, f] of Object.entries(r.awsRequestsPerMessage ?? {})) {
    rows.push({
      figure: `per inbound message: ${k} (vs naive)`,
      value: f.pagewire,
      reference: f.naive,
      ratio: Number.isFinite(f.ratio) ? f.ratio : '—',
      target: f.target === undefined ? '' : `≤ ${f.target}`,
      ok: mark(f.ok),
    });
  }
  const c = r.costPerMillion;
  if (c) {
    rows.push({
      figure: 'USD per million inbound messages, burst (vs naive)',
      value: c.pagewire,
      reference: c.naive,
      ratio: c.ratio,
      target: '≤ 0.5',
      ok: mark(c.ok),
    });
    rows.push({
      figure: 'USD per million, steady 1 M/month (vs naive)',
      value: c.steady.pagewire,
      reference: c.steady.naive,
      ratio: c.steady.ratio,
      target: '≤ 0.5',
      ok: mark(c.steady.ok),
    });
    if (c.eventsAdded) {
      rows.push({
        figure: 'USD per million added by public events, burst (vs Pagewire total)',
        value: c.eventsAdded.total,
        reference: c.pagewire,
        ratio: c.eventsAdded.shareOfTotal,
        target: 'information',
        ok: '',
      });
    }
  }
  for (const s of r.resubscribeAll?.rows ?? []) {
    rows.push({
      figure: `resubscribe-all s, ${s.pages} pages, concurrency ${s.concurrency} (vs floor)`,
      value: s.wallSeconds,
      reference: s.floorSeconds,
      ratio: s.ratio,
      target: `≤ ${s.targetRatio}`,
      ok: mark(s.ok),
    });
  }
  for (const d of r.doctor?.rows ?? []) {
    rows.push({
      figure: `doctor s, ${d.pages} pages, ${d.run}, ${d.graphCallsPerPage} Graph calls/page (vs floor)`,
      value: d.wallSeconds,
      reference: d.floorSeconds,
      ratio: d.ratio,
      target: '≤ 2',
      ok: mark(d.ok),
    });
  }
  if (r.doctor)
    rows.push({
      figure: 'doctor Graph calls per page per day, hourly runs, tokens daily (vs every run)',
      value: r.doctor.graphCallsPerPagePerDay,
      reference: r.doctor.graphCallsPerPagePerDayUnspread,
      ratio: ratio(r.doctor.graphCallsPerPagePerDay, r.doctor.graphCallsPerPagePerDayUnspread),
      target: '≤ 0.6',
      ok: mark(r.doctor.graphCallsPerPagePerDay <= 0.6 * r.doctor.graphCallsPerPagePerDayUnspread),
    });
  const t = r.localThroughput;
  if (t) {
    rows.push({
      figure: 'local stack messages/s, POST to stored (vs dynalite ceiling)',
      value: t.messagesPerSecond,
      reference: t.referenceMessagesPerSecond,
      ratio: t.ratio,
      target: 'information',
      ok: '',
    });
  }
  const m = r.media;
  if (m) {
    rows.push({
      figure: `media copies MB/s, ${m.attachments} × ${m.mbEach} MB, local worker (${m.copiesPerSecond} copies/s)`,
      value: m.mbPerSecond,
      reference: '',
      ratio: '',
      target: 'information',
      ok: mark(m.stored === m.attachments),
    });
    rows.push({
      figure: 'media copies: MB of memory held at peak (vs buffering the files in flight)',
      value: m.growthMb,
      reference: m.bufferedReferenceMb,
      ratio: Math.round((m.growthMb / m.bufferedReferenceMb) * 100) / 100,
      // The loopback CDN and dynalite run in the same process: the figure bounds the worker's share.
      target: 'information',
      ok: '',
    });
  }
  const b = r.bodyLimit;
  for (const w of b?.waves ?? []) {
    rows.push({
      figure: `local gateway MB held, ${b?.uploads} × ${b?.uploadMb} MiB uploads: ${w.name} (vs buffering)`,
      value: w.growthMb,
      reference: b?.referenceMb ?? '',
      ratio: w.ratio,
      target: `≤ ${b?.targetRatio}`,
      ok: mark(w.ok),
    });
  }
  for (const [k, f] of Object.entries(r.chaos?.figures ?? {})) {
    rows.push({
      figure: `fault injection, ${r.chaos?.events} events: ${k}`,
      value: f.value,
      reference: f.reference,
      ratio: '',
      target: `= ${f.reference}`,
      ok: mark(f.ok),
    });
  }
  return rows;
}

type EventsAdded = NonNullable<Results['costPerMillion']>['eventsAdded'];

/** Footnote ² of the cost table: what publishing events adds, by line, and the change log's DynamoDB share. */
function eventsAddedText(e: EventsAdded): string[] {
  const l = e.lines;
  const d = e.dynamo;
  return [
    `² Public events (SPEC §8) add ${usd(e.total)} per million inbound messages (burst; ` +
      `${Math.round(e.shareOfTotal * 100)} % of the total): EventBridge custom events ${usd(l.eventBridge)}, ` +
      `the bus archive ${usd(l.eventArchive)}, the tail log ${usd(l.eventLog)}, the change log's DynamoDB ` +
      `reads and writes ${usd(l.changeLogDynamo)}, Lambda time waiting on PutEvents and the change log ` +
      `${usd(l.lambdaWaits)} (CPU not split out). With context \`forwardUrl\`, API destination invocations add ` +
      '$0.20 per million events.',
    '',
    table(
      ['DynamoDB per inbound message', 'total', 'change log', 'without the change log'],
      [
        ['calls', d.calls.total, d.calls.changeLog, d.calls.without],
        ['read units', d.readUnits.total, d.readUnits.changeLog, d.readUnits.without],
        ['write units', d.writeUnits.total, d.writeUnits.changeLog, d.writeUnits.without],
      ],
    ),
  ];
}

const kb = (bytes: number) => `${Math.round(bytes / 1024)} KB`;
const usd = (x: number) => (x === 0 ? '$0' : x >= 0.1 ? `$${x.toFixed(2)}` : `$${x.toPrecision(2)}`);
const num = (x: number | null | undefined) =>
  x === null || x === undefined || Number.isNaN(x) ? '—' : String(x);

/** A Markdown table, columns padded as Biome's formatter (and the README) lay them out. */
function table(head: string[], rows: Array<Array<string | number>>): string {
  const cells = [head, ...rows].map((row) => row.map((c) => String(c)));
  const width = head.map((_, i) => Math.max(3, ...cells.map((row) => Array.from(row[i] ?? '').length)));
  const pad = (text: string, i: number) => text + ' '.repeat((width[i] ?? 0) - Array.from(text).length);
  const line = (row: string[]) => `| ${row.map(pad).join(' | ')} |`;
  return [line(head), line(width.map((w) => '-'.repeat(w))), ...cells.slice(1).map(line)].join('\n');
}

/** The README section. */
export function renderPerformance(r: Results): string {
  const out: string[] = [];
  const m = r.machine;
  out.push('## Performance');
  out.push('');
  // After `--only`, the other figures are kept from earlier runs: the whole run is the sum of the last times.
  const whole = Object.values(r.run.benchSeconds).reduce((sum, s) => sum + s, 0);
  const partial = r.run.ran.length < Object.keys(r.run.benchSeconds).length;
  const timing = partial
    ? `${Math.round(whole * 10) / 10} s for the whole run; last updated by \`--only ${r.run.ran.join(',')}\``
    : `${r.run.durationSeconds} s for the whole run`;
  out.push(
    `Measured by \`npm run bench\` (${timing}) on ${m.cpu}, ${m.cores} cores, ` +
      `Node ${m.node}, ${r.run.at.slice(0, 10)}. Timings are medians over repeated runs in one process (verifier: ` +
      '15 rounds; cold start: 12 process starts; resubscribe-all: 2 runs); counts and costs come from one run ' +
      'of a seeded workload. Each figure stands beside its reference as a ratio: absolute times drift with the ' +
      'machine, ratios much less. The numbers come from `bench/results.json`; the code is in `bench/`.',
  );

  if (r.verifier) {
    out.push('', '### Webhook verifier', '');
    out.push(
      'The deployed handler (`hotPathLambda`: Powertools log context and metrics flush, no middy; the queue port ' +
        'writing to memory) against the floor every ' +
        'verifier pays: HMAC-SHA256 and `JSON.parse` of the same bytes.',
    );
    out.push('');
    out.push(
      table(
        ['events per POST', 'bytes', 'handler µs', 'floor µs', 'ratio', 'target'],
        r.verifier.rows.map((v) => [
          v.events,
          v.bytes,
          v.handlerMicros,
          v.floorMicros,
          v.ratio,
          v.targetRatio ? `≤ ${v.targetRatio}` : '',
        ]),
      ),
    );
    const at1 = r.verifier.rows.find((v) => v.events === 1);
    if (at1) {
      out.push('');
      out.push(
        `At 1 event the handler alone takes ${at1.unwrappedMicros} µs; the deployed wrapper brings it to ` +
          `${at1.handlerMicros} µs. Where the time goes (CPU profile of the deployed handler, self time):`,
      );
      out.push('');
      out.push(
        table(
          ['share', 'function'],
          r.verifier.profile.slice(0, 8).map((p) => [`${p.share} %`, `\`${p.frame}\``]),
        ),
      );
    }
  }

  if (r.verifierQueue) {
    const q = r.verifierQueue;
    out.push('', '### Answering a large POST', '');
    out.push(
      'Meta batches up to 1,000 events in one POST and waits for the answer. Time from the POST to the 200 ' +
        'through the deployed verifier, `SqsEventQueue` and the real `SQSClient`, against the SQS fake on loopback ' +
        `(\`testkit/sqs-fake.ts\`, its own process) answering every call after ${q.latencyMs} ms; medians of ` +
        `${q.runs} POSTs. Reference: one round trip, a \`SendMessageBatch\` of one entry through the same client ` +
        `(${q.roundTripMs} ms). Batches go ${MAX_BATCHES_IN_FLIGHT} at a time; "one after the other" is how the ` +
        'verifier sent them before. CPU ms: what the verifier and the SDK spend per POST in this process (the fake ' +
        'runs apart); past the first round trips of waiting, a large POST takes that CPU time.',
    );
    out.push('');
    out.push(
      table(
        [
          'events',
          'SendMessageBatch calls',
          'ms',
          'round trips',
          'target',
          'CPU ms',
          'one after the other: ms',
          'round trips',
        ],
        q.rows.map((v) => [
          v.events,
          v.calls,
          v.ms,
          v.ratio,
          v.targetRatio ? `≤ ${v.targetRatio}` : '',
          v.cpuMs,
          v.sequentialMs,
          v.sequentialRatio,
        ]),
      ),
    );
  }

  if (r.coldStart) {
    const cs = r.coldStart;
    out.push('', '### Cold start', '');
    out.push(
      "Each function bundled as CDK's `NodejsFunction` does (esbuild: bundle, minify, source map, ESM with the " +
        '`createRequire` banner, AWS SDK inside), then a fresh `node` importing the bundle, minus a bare ' +
        `\`node -e ''\` (${cs.bareNodeMs} ms); medians of ${cs.runs} runs each, one after the other.`,
    );
    out.push('');
    out.push(
      table(
        [
          'function',
          'bundle',
          'init ms',
          'target',
          'with --enable-source-maps',
          'largest parts of the bundle',
        ],
        cs.rows.map((c) => [
          c.function,
          kb(c.bundleBytes),
          c.initMs,
          `≤ ${c.targetMs}`,
          c.initWithSourceMapsMs,
          c.topPackages
            .slice(0, 3)
            .map((p) => `${p.name} ${kb(p.bytes)}`)
            .join(', '),
        ]),
      ),
    );
    out.push('');
    out.push(
      'What single packages cost when imported alone (same bundling): ' +
        cs.packages.map((p) => `${p.name} ${p.initMs} ms (${kb(p.bundleBytes)})`).join('; ') +
        '. Prototypes of proposed entries: ' +
        cs.prototypes.map((p) => `${p.name}: ${p.initMs} ms, ${kb(p.bundleBytes)}`).join('; ') +
        '.',
    );
  }

  if (r.awsRequestsPerMessage && r.costPerMillion) {
    const c = r.costPerMillion;
    const w = c.workload;
    out.push('', '### AWS requests per inbound message', '');
    if (w) {
      out.push(
        `${w.pages} pages, ${w.conversations} conversations, ${w.inboundMessages} inbound messages plus ` +
          `${w.echoes} echoes, ${w.deliveries} deliveries and ${w.reads} reads in ${w.posts} POSTs of 1–5 ` +
          `entries, through the real verifier and processor handlers (${w.processorContainers} processor ` +
          'containers) against dynalite, the local FIFO queue and the keyring, every call counted. The naive ' +
          'design does all the work inside the webhook call: per event a page lookup and a Redis lock (2 calls), ' +
          'per inbound message also a KMS decrypt and a profile fetch, and the same writes, change log and ' +
          'public events (one PutEvents per webhook call). The processor publishes through the real ' +
          '`EventBridgePublisher` (≤ 10 entries and 256 KB a call) to a client that accepts every entry; ' +
          'EventBridge bills each entry per 64 KB chunk (billed events).',
      );
      out.push('');
    }
    out.push(
      table(
        [
          'per inbound message',
          'Pagewire (burst)',
          'Pagewire (steady 1 M/month)',
          'naive',
          'ratio (burst)',
          'target',
        ],
        Object.entries(r.awsRequestsPerMessage).map(([k, f]) => [
          k,
          f.pagewire,
          c.steady.awsRequestsPerMessage[k]?.pagewire ?? '',
          f.naive,
          num(f.ratio),
          f.target === undefined ? '' : `≤ ${f.target}`,
        ]),
      ),
    );
    out.push('');
    out.push(
      '"Burst" is the run as measured: the queue filled faster than it drained, so batches were full ' +
        `(mean ${w?.meanBatchSize}). "Steady" prices the same counts at one million messages a month, when ` +
        'every event is a batch of its own and the 30 s page cache has expired by the next event of a page.',
    );
    out.push('', '### Cost per million inbound messages', '');
    out.push(
      table(
        ['USD per million inbound messages', 'Pagewire (burst)', 'Pagewire (steady)', 'naive'],
        [
          ...Object.entries(c.lines).map(([k, l]) => [
            k,
            usd(l.pagewire),
            usd(c.steady.lines[k]?.pagewire ?? 0),
            usd(l.naive),
          ]),
          ['**total**', `**${usd(c.pagewire)}**`, `**${usd(c.steady.pagewire)}**`, `**${usd(c.naive)}**`],
          ['ratio to naive (target ≤ 0.5)', String(c.ratio), String(c.steady.ratio), '1'],
          [
            'without what both pay alike¹',
            usd(c.designOnly.pagewire),
            usd(c.steady.designOnly.pagewire),
            usd(c.designOnly.naive),
          ],
          ['its ratio to naive', String(c.designOnly.ratio), String(c.steady.designOnly.ratio), '1'],
          ...(c.eventsAdded
            ? [
                [
                  'of the total: added by public events²',
                  usd(c.eventsAdded.total),
                  usd(c.eventsAdded.steadyTotal),
                  usd(c.eventsAdded.naiveTotal),
                ],
              ]
            : []),
        ],
      ),
    );
    out.push('');
    out.push(
      '¹ API Gateway, the DynamoDB writes (the same data model for both), the secret reads and the public ' +
        'events (EventBridge, its archive, the tail log): what is left is the cost of the design itself (queue, ' +
        'functions, lookups, KMS, lock, logs).',
    );
    if (c.eventsAdded) out.push('', ...eventsAddedText(c.eventsAdded));
    out.push('');
    out.push(
      `Not in the totals: X-Ray tracing (on in the stack) would add about ${usd(Number(c.notIncluded.xrayAtOneMillionPerMonth))} ` +
        `per million messages at 1 M messages a month; the naive design's Valkey cache meters at least 100 MB ` +
        `(${usd(Number(c.notIncluded.naiveValkeyStorageMinimumPerMonth))} a month), which at that volume puts the ` +
        `steady ratio at ${c.steady.ratioWithValkeyMinimum}. Lambda time is the CPU time measured per phase plus, per ` +
        'AWS call, an assumed AWS latency (DynamoDB 5 ms, SQS send 12 ms, KMS 8 ms, Graph 150 ms, PutEvents ' +
        '20 ms), at 512 MB arm64.',
    );
    out.push('');
    out.push('Prices (us-east-1, on-demand, before free tiers):');
    out.push('');
    out.push(
      table(
        ['item', 'USD', 'per', 'source', 'as of'],
        Object.values(PRICES).map((p) => [
          p.per.split(' (')[0]?.split(';')[0] ?? p.per,
          p.usd < 0.001 ? `${(p.usd * 1e6).toPrecision(4)} per million` : String(p.usd),
          p.per,
          p.source,
          p.asOf,
        ]),
      ),
    );
  }

  if (r.resubscribeAll) {
    out.push('', '### Resubscribe-all at scale', '');
    out.push(
      `${r.resubscribeAll.rows[0]?.pages ?? 0} connected pages, the Graph API fake answering each call after 50 ms ` +
        "(in its own process), dynalite in its own process, the ops function's code " +
        '(`createOps(pageOpsDeps(...).bulk)`). Floor: pages × 50 ms ÷ `PAGE_OPS_CONCURRENCY`. Median of ' +
        `${r.resubscribeAll.rows[0]?.runs ?? 1} runs each. Every page costs a GetItem, an unseal, the Graph call and ` +
        'an UpdateItem, one after the other; the app process (SDK calls, fetch, `appsecret_proof`) uses the CPU ' +
        'shown, and shares 2 cores with dynalite and the fake.',
    );
    out.push('');
    out.push(
      table(
        [
          'concurrency',
          'wall s',
          'floor s',
          'ratio',
          'target',
          'app CPU (cores)',
          'app CPU ms/page',
          'DynamoDB calls/page',
          'ms per DynamoDB call',
        ],
        r.resubscribeAll.rows.map((s) => [
          s.concurrency,
          s.wallSeconds,
          s.floorSeconds,
          s.ratio,
          `≤ ${s.targetRatio}`,
          s.cpuShare,
          s.cpuMsPerPage,
          s.dynamoCallsPerPage,
          s.dynamoMsPerCall,
        ]),
      ),
    );
  }

  if (r.doctor) {
    const d = r.doctor;
    out.push('', '### The doctor at scale', '');
    out.push(
      `${d.rows[0]?.pages ?? 0} connected pages, the Graph API fake answering each call after 50 ms (its own ` +
        'process), dynalite in its own process, the doctor as the scheduled health check runs it (repair on, ' +
        'tokens introspected about once a day). Floor: Graph calls × 50 ms ÷ concurrency. Graph calls per page ' +
        `per day, 24 hourly runs: **${d.graphCallsPerPagePerDay}** (introspecting every run: ` +
        `${d.graphCallsPerPagePerDayUnspread}).`,
    );
    out.push('');
    out.push(
      table(
        ['run', 'concurrency', 'Graph calls/page', 'wall s', 'floor s', 'ratio', 'app CPU ms/page'],
        d.rows.map((x) => [
          x.run,
          x.concurrency,
          x.graphCallsPerPage,
          x.wallSeconds,
          x.floorSeconds,
          x.ratio,
          x.cpuMsPerPage,
        ]),
      ),
    );
  }

  if (r.localThroughput) {
    const t = r.localThroughput;
    out.push('', '### Local stack throughput', '');
    out.push(
      `\`npm start\`'s stack (its own process, \`MEMORY=1\`): ${t.events} events in ${t.posts} signed POSTs, ` +
        `16 at a time: **${t.messagesPerSecond} messages/s** from POST to stored (${t.acceptedPostsPerSecond} POSTs/s ` +
        `answered 200), ${t.ratio} of the ${t.referenceMessagesPerSecond} messages/s its in-process dynalite allows ` +
        'at two writes per message. For information: the local stack is for trying Pagewire, not for load.',
    );
  }

  if (r.bodyLimit) {
    const b = r.bodyLimit;
    out.push('', '### Oversized uploads to the local stack', '');
    out.push(
      `\`npm start\`'s process (\`MEMORY=1\`) while ${b.uploads} clients on loopback upload ${b.uploadMb} MiB each at ` +
        'once, in three waves. "Held" is the peak of its resident memory during the wave (the kernel\'s high-water ' +
        'mark, reset before each wave) minus its memory before; the reference is what a gateway that reads up to a ' +
        `10 MiB limit before refusing would hold (${b.referenceMb} MB; issue 8 measured about 970 MB). Bodies over ` +
        "their route's limit (1 MiB) are refused with 413 as soon as a declared length or the bytes read pass it; " +
        '"sent" is what the clients had handed to their sockets by then.',
    );
    out.push('');
    out.push(
      table(
        ['wave', 'before MB', 'peak MB', 'held MB', 'ratio', 'target', '413', 'reset', 'sent MB', 's'],
        b.waves.map((w) => [
          w.name,
          w.rssBeforeMb,
          w.peakRssMb,
          w.growthMb,
          w.ratio,
          `≤ ${b.targetRatio}`,
          w.refused413,
          w.reset,
          w.sentMb,
          w.seconds,
        ]),
      ),
    );
  }

  if (r.chaos) {
    const ch = r.chaos;
    out.push('', '### Fault injection', '');
    out.push(
      `${ch.events} events over ${ch.pages} pages and ${ch.conversations} conversations (${ch.posts} POSTs), through ` +
        'the real handlers, while DynamoDB throttled ' +
        `${ch.injected.dynamoThrottles} calls, the Graph API failed ${ch.injected.graphErrors} calls (5xx, 613), ` +
        `the processor crashed mid-batch ${ch.injected.crashes} times, SQS sends failed ` +
        `${ch.injected.queueFailuresBefore + ch.injected.queueFailuresAfter} times (Meta retried after the 500s), ` +
        `and ${ch.sent.concurrentDuplicates + ch.sent.lateDuplicates} POSTs were delivered again ` +
        `(${ch.sent.concurrentDuplicates} at the same time). ${ch.processor.redeliveredRecords} records were ` +
        `redelivered; the run took ${ch.wallSeconds} s. \`npm test\` runs the same with 2,000 events ` +
        '(`tests/chaos/fault-injection.test.ts`), and fuzzes the verifier (`tests/chaos/verifier-fuzz.test.ts`).',
    );
    out.push('');
    out.push(
      table(
        ['figure', 'measured', 'must be', 'ok'],
        Object.entries(ch.figures).map(([k, f]) => [k, f.value, f.reference, f.ok ? 'yes' : '**NO**']),
      ),
    );
    out.push('');
    out.push(
      `Secrets scan: the app secret and every page token, searched in ${ch.scanned.logLines} log lines ` +
        `(logger at ${ch.logLevel}), ${ch.scanned.responses} HTTP answers, ${ch.scanned.errors} errors, ` +
        `${ch.scanned.queueMessages} queued messages and ${ch.scanned.dynamoRequests} DynamoDB requests.`,
    );
  }
  out.push('');
  return out.join('\n');
}

/**
 * The summary as Markdown (every figure beside its reference and target), for the docs' Performance
 * section; the details stay in PERFORMANCE.md. Printed by `npm run bench -- --markdown`: nothing here
 * writes README.md or docs/.
 */
export function renderSummaryMarkdown(r: Results): string {
  const machine = r.machine
    ? `${r.machine.cpu}, ${r.machine.cores} cores, Node ${r.machine.node}`
    : 'this machine';
  const rows = summaryRows(r).map((x) => [x.figure.trim(), x.value, x.reference, x.ratio, x.target, x.ok]);
  return [
    `Measured by \`npm run bench\` on ${machine}. Medians over repeated runs, each beside its reference;`,
    'the method, every table and the prices (with sources and dates) are in [bench/PERFORMANCE.md](bench/PERFORMANCE.md).',
    '',
    table(['figure', 'value', 'reference', 'ratio', 'target', 'met'], rows),
    '',
  ].join('\n');
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const results = JSON.parse(readFileSync(new URL('./results.json', import.meta.url), 'utf8')) as Results;
  if (process.argv.includes('--markdown')) console.log(renderSummaryMarkdown(results));
  else {
    writeFileSync(new URL('./PERFORMANCE.md', import.meta.url), renderPerformance(results));
    console.log('wrote bench/PERFORMANCE.md');
  }
}
