// A consumer of Pagewire's public events (SPEC §8), for FORWARD_URL or an EventBridge API destination:
// it checks the key, applies each event once (dedupe on `id`) and a conversation's events in `seq`
// order. Keep `applied` and `lastSeq` in your database; memory is enough to show the rules.
import { createServer } from 'node:http';

export function createConsumer({ key, apply }) {
  const applied = new Set();
  const lastSeq = new Map();
  return (req, res) => {
    if (req.headers['x-pagewire-key'] !== key) return res.writeHead(401).end();
    let body = '';
    req.on('data', (chunk) => (body += chunk));
    req.on('end', async () => {
      const event = JSON.parse(body);
      if (applied.has(event.id)) return res.writeHead(200).end(); // a redelivery
      const conversation = `${event.pageId}:${event.userId}`;
      const last = lastSeq.get(conversation) ?? 0;
      // An event ahead of a gap: refuse it (503 is retried), it comes back after the missing one.
      if (event.seq && event.seq !== last + 1) return res.writeHead(event.seq <= last ? 200 : 503).end();
      await apply(event);
      applied.add(event.id);
      if (event.seq) lastSeq.set(conversation, event.seq);
      res.writeHead(200).end();
    });
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const handler = createConsumer({
    key: process.env.FORWARD_API_KEY,
    apply: (e) =>
      console.log(e.seq ?? '-', e.type, e.pageId, e.userId ?? '', JSON.stringify(e.data).slice(0, 60)),
  });
  createServer(handler).listen(Number(process.env.PORT ?? 4000), () => console.log('consumer ready'));
}
