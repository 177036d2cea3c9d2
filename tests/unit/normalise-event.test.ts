import { describe, expect, it } from 'vitest';
import type { QueuedEvent } from '#contracts/queue';
import type { ConversationEvent } from '#conversations/conversation-event';
import { normaliseEvent } from '#conversations/normalise-event';
import { parseWebhook } from '#ingest/parse-webhook';
import { first } from '#testkit/pick';
import {
  APP_ID,
  EVENTS,
  type EventName,
  MID,
  OTHER_APP_ID,
  PAGE_A,
  PAGE_B,
  PAGE_INBOX_APP_ID,
  singleEventBody,
  USER_A1,
  USER_A2,
  USER_B1,
} from '#testkit/webhooks';

function queued(name: EventName, pageId = PAGE_A, field: 'messaging' | 'standby' = 'messaging'): QueuedEvent {
  const result = parseWebhook(singleEventBody(EVENTS[name], pageId, field));
  if (!result.ok || result.events.length !== 1) throw new Error(`fixture ${name} did not parse`);
  return first(result.events, 'event');
}

function normalised(name: EventName): ConversationEvent {
  return normaliseEvent(queued(name));
}

function raw(event: Record<string, unknown>): QueuedEvent {
  return { v: 1, pageId: PAGE_A, userId: USER_A1, eventId: 'h:abc', timestamp: 5, standby: false, event };
}

describe('normaliseEvent: messages', () => {
  it('decodes text with escaped non-ASCII and slashes', () => {
    expect(normalised('text')).toEqual({
      pageId: PAGE_A,
      userId: USER_A1,
      timestamp: 1727251200123,
      standby: false,
      fromPage: false,
      kind: 'message',
      direction: 'in',
      mid: MID.text,
      text: 'Hola! ¿Cuánto cuesta el envío a Málaga? 🚀 Lo vi en https://example.com/envios',
      attachments: [],
    });
  });

  it('reads a quick reply and a reply_to', () => {
    expect(normalised('quickReply')).toMatchObject({
      text: 'Sí, por favor',
      quickReplyPayload: 'CONFIRM_ORDER_42',
    });
    expect(normalised('replyTo')).toMatchObject({ kind: 'message', replyToMid: MID.echo });
  });

  it('reads image, audio, video, file and reel attachments', () => {
    expect(normalised('image')).toMatchObject({
      kind: 'message',
      text: undefined,
      attachments: [
        {
          type: 'image',
          url: expect.stringMatching(/^https:\/\/scontent\.xx\.fbcdn\.net\/v\/t1\.15752-9\/461234567_/),
          payload: { url: expect.any(String) },
        },
      ],
    });
    expect(normalised('audio')).toMatchObject({
      attachments: [{ type: 'audio', url: expect.stringContaining('audioclip') }],
    });
    expect(normalised('video')).toMatchObject({
      attachments: [{ type: 'video', url: expect.stringContaining('video-') }],
    });
    expect(normalised('file')).toMatchObject({
      attachments: [{ type: 'file', url: expect.stringContaining('/Factura_Señor_Muñoz.pdf?') }],
    });
    expect(normalised('reel')).toMatchObject({
      attachments: [
        {
          type: 'reel',
          url: expect.stringContaining('lookaside.fbsbx.com/ig_messaging_cdn/'),
          title: 'Cómo doblar una camisa en 10 s',
          payload: { reel_video_id: 1234567890123456 },
        },
      ],
    });
  });

  it('reads a sticker (the old image with a sticker id) as its own type, with its sticker id', () => {
    const event = normalised('sticker');
    expect(event).toMatchObject({ kind: 'message', text: undefined });
    expect(event.kind === 'message' && event.attachments[0]).toMatchObject({
      type: 'sticker',
      stickerId: 369239263222822,
    });
    const typed = normaliseEvent(
      raw({
        message: {
          mid: 'm_1',
          attachments: [{ type: 'sticker', payload: { url: 'https://x/s.png', sticker_id: 7 } }],
        },
      }),
    );
    expect(typed.kind === 'message' && typed.attachments[0]).toMatchObject({ type: 'sticker', stickerId: 7 });
    const image = normaliseEvent(
      raw({ message: { mid: 'm_2', attachments: [{ type: 'image', payload: { url: 'u' } }] } }),
    );
    expect(image.kind === 'message' && image.attachments[0]).toMatchObject({ type: 'image' });
  });

  it('reads a Messenger edit: the message it edits, its new text and its edit count', () => {
    expect(normalised('edit')).toMatchObject({
      kind: 'edit',
      targetMid: MID.edited,
      text: 'Hola, ¿cuánto cuesta?',
      numEdit: 1,
      fromPage: false,
    });
  });

  it('reads an Instagram unsend as an unsend of its mid, and a story reply with its story', () => {
    expect(normaliseEvent(raw({ message: { mid: 'm_1', is_deleted: true } }))).toMatchObject({
      kind: 'unsend',
      targetMid: 'm_1',
    });
    const reply = normaliseEvent(
      raw({
        message: { mid: 'm_2', text: 'nice', reply_to: { story: { url: 'https://x/s.mp4', id: '179' } } },
      }),
    );
    expect(reply).toMatchObject({ kind: 'message', replyToStory: { url: 'https://x/s.mp4', id: '179' } });
    expect(normaliseEvent(raw({ read: { mid: 'm_3' } }))).toMatchObject({
      kind: 'read',
      mid: 'm_3',
      watermark: 0,
    });
  });

  it('reads a fallback attachment that has no payload', () => {
    const event = normalised('fallback');
    expect(event.kind === 'message' && event.attachments).toEqual([
      {
        type: 'fallback',
        title: 'Ofertas de otoño',
        url: 'https://l.facebook.com/l.php?u=https%3A%2F%2Fexample.com%2Fofertas&h=AT0aBcDeF',
        payload: undefined,
        stickerId: undefined,
      },
    ]);
  });

  it('reads an echo as an outgoing message with app id and metadata', () => {
    expect(normalised('echo')).toMatchObject({
      kind: 'message',
      direction: 'out',
      userId: USER_A1,
      mid: MID.echo,
      appId: APP_ID,
      metadata: 'agent:42',
      text: 'Gracias por escribirnos. ¿En qué talla lo quieres?',
    });
    expect(normalised('inboxEcho')).toMatchObject({
      direction: 'out',
      appId: PAGE_INBOX_APP_ID,
      metadata: undefined,
      text: 'Hola, soy Lucía del equipo 👋',
    });
  });

  it('keeps the template payload of an echoed template', () => {
    const event = normalised('templateEcho');
    expect(event.kind === 'message' && event.attachments[0]).toMatchObject({
      type: 'template',
      title: 'Camisa de lino',
      url: 'https://example.com/p/123',
      payload: { template_type: 'generic', elements: [{ subtitle: '49,90 €' }] },
    });
  });

  it('keeps messages with neither text nor attachments', () => {
    expect(normaliseEvent(raw({ message: { mid: 'm_1', commands: [{ name: 'flights' }] } }))).toMatchObject({
      kind: 'message',
      mid: 'm_1',
      attachments: [],
    });
  });

  it('falls back to the event id for a message without mid, and survives odd attachment shapes', () => {
    const event = normaliseEvent(
      raw({
        message: {
          attachments: [null, 7, { payload: 'x' }, { type: 'image', payload: { sticker_id: '1' } }],
        },
      }),
    );
    expect(event).toMatchObject({ kind: 'message', mid: 'h:abc' });
    expect(event.kind === 'message' && event.attachments).toEqual([
      { type: 'unknown', payload: undefined, url: undefined, title: undefined, stickerId: undefined },
      { type: 'image', payload: { sticker_id: '1' }, url: undefined, title: undefined, stickerId: undefined },
    ]);
    expect(normaliseEvent(raw({ message: { mid: 'm_2', attachments: 'nope', text: 5 } }))).toMatchObject({
      attachments: [],
      text: undefined,
    });
  });

  it('keeps a message referral', () => {
    const referral = { ref: 'x', source: 'ADS', type: 'OPEN_THREAD', ad_id: '1' };
    expect(normaliseEvent(raw({ message: { mid: 'm_3', text: 'hi', referral } }))).toMatchObject({
      referral,
    });
  });
});

describe('normaliseEvent: other kinds', () => {
  it('reads a postback with mid, title, payload and referral', () => {
    expect(normalised('postback')).toMatchObject({
      kind: 'postback',
      mid: MID.postback,
      title: 'Empezar',
      payload: 'GET_STARTED',
      referral: { ref: 'otoño-2024', source: 'SHORTLINK' },
    });
  });

  it('reads a standby postback without payload or mid', () => {
    const q = queued('standbyPostback', PAGE_B, 'standby');
    expect(normaliseEvent(q)).toEqual({
      pageId: PAGE_B,
      userId: USER_B1,
      timestamp: 1727251201523,
      standby: true,
      fromPage: false,
      kind: 'postback',
      mid: q.eventId,
      title: 'Hablar con una persona',
      payload: undefined,
      referral: undefined,
    });
  });

  it('reads reactions, react and unreact', () => {
    expect(normalised('react')).toMatchObject({
      kind: 'reaction',
      targetMid: MID.echo,
      action: 'react',
      reaction: 'love',
      emoji: '❤️',
    });
    expect(normalised('unreact')).toMatchObject({
      kind: 'reaction',
      targetMid: MID.echo,
      action: 'unreact',
      reaction: undefined,
    });
  });

  it('reads deliveries with and without mids, and reads', () => {
    expect(normalised('delivery')).toMatchObject({
      kind: 'delivery',
      watermark: 1727251201300,
      mids: [MID.echo, MID.inboxEcho],
    });
    expect(normalised('deliveryNoMids')).toMatchObject({
      kind: 'delivery',
      watermark: 1727251201300,
      mids: [],
    });
    expect(normalised('read')).toMatchObject({ kind: 'read', watermark: 1727251201300, userId: USER_A1 });
  });

  it('reads m.me and ad referrals', () => {
    const q = queued('referral');
    expect(normaliseEvent(q)).toMatchObject({
      kind: 'referral',
      userId: USER_A2,
      eventId: q.eventId,
      ref: 'otoño-2024',
      source: 'SHORTLINK',
      type: 'OPEN_THREAD',
      adId: undefined,
    });
    expect(normalised('adReferral')).toMatchObject({
      kind: 'referral',
      ref: 'ad-lino',
      source: 'ADS',
      adId: '23851234567890123',
    });
  });

  it('reads opt-ins, with payload and with user_ref', () => {
    expect(normalised('optin')).toMatchObject({
      kind: 'optin',
      type: 'notification_messages',
      payload: 'ofertas-semanales',
    });
    expect(normalised('checkboxOptin')).toMatchObject({
      kind: 'optin',
      userId: 'ref:cb-8f14e45fceea167a5a36dedd4bea2543',
      ref: 'checkout',
      type: undefined,
    });
  });

  it('reads handovers with the whole object as detail', () => {
    expect(normalised('passThread')).toMatchObject({
      kind: 'handover',
      action: 'pass_thread_control',
      detail: {
        previous_owner_app_id: PAGE_INBOX_APP_ID,
        new_owner_app_id: APP_ID,
        metadata: 'resuelto por agente',
      },
    });
    expect(normalised('takeThread')).toMatchObject({
      action: 'take_thread_control',
      detail: { metadata: 'el agente toma la conversación' },
    });
    expect(normalised('requestThread')).toMatchObject({
      action: 'request_thread_control',
      detail: { requested_owner_app_id: OTHER_APP_ID },
    });
    const q = queued('appRoles');
    expect(normaliseEvent(q)).toMatchObject({
      kind: 'handover',
      eventId: q.eventId,
      action: 'app_roles',
      detail: { [APP_ID]: ['primary_receiver'], [OTHER_APP_ID]: ['secondary_receiver'] },
    });
  });

  it('reports unknown kinds with their keys', () => {
    const q = raw({ message_reply_feedback: { mid: 'm_1' } });
    expect(normaliseEvent(q)).toEqual({
      pageId: PAGE_A,
      userId: USER_A1,
      timestamp: 5,
      standby: false,
      fromPage: false,
      kind: 'unknown',
      eventId: q.eventId,
      keys: ['message_reply_feedback'],
    });
    expect(normaliseEvent(raw({ reaction: { action: 'react' } }))).toMatchObject({ kind: 'unknown' });
    expect(normaliseEvent(raw({ message: 'text', delivery: [] }))).toMatchObject({
      kind: 'unknown',
      keys: ['message', 'delivery'],
    });
  });

  it('lets the first key of a kind decide: a kind object that does not parse makes the event unknown', () => {
    expect(normaliseEvent(raw({ message: 'text', postback: { title: 'Start' } }))).toEqual({
      pageId: PAGE_A,
      userId: USER_A1,
      timestamp: 5,
      standby: false,
      fromPage: false,
      kind: 'unknown',
      eventId: 'h:abc',
      keys: ['message', 'postback'],
    });
    expect(normaliseEvent(raw({ read: { watermark: 7 }, delivery: { watermark: 6 } }))).toMatchObject({
      kind: 'delivery',
      watermark: 6,
    });
  });

  it('keeps standby on every kind', () => {
    expect(normaliseEvent(queued('standbyText', PAGE_B, 'standby'))).toMatchObject({
      kind: 'message',
      standby: true,
      text: '¿Sigue abierto el pedido?',
    });
  });

  it('gives every fixture its kind', () => {
    const kinds = Object.fromEntries(
      (Object.keys(EVENTS) as EventName[]).map((name) => [name, normalised(name).kind]),
    );
    expect(kinds).toEqual({
      ...Object.fromEntries(
        ['text', 'quickReply', 'replyTo', 'image', 'sticker', 'audio', 'video', 'file', 'fallback', 'reel']
          .concat(['echo', 'inboxEcho', 'templateEcho', 'standbyText', 'chatPluginText'])
          .map((name) => [name, 'message']),
      ),
      postback: 'postback',
      standbyPostback: 'postback',
      react: 'reaction',
      unreact: 'reaction',
      delivery: 'delivery',
      deliveryNoMids: 'delivery',
      read: 'read',
      referral: 'referral',
      adReferral: 'referral',
      optin: 'optin',
      checkboxOptin: 'optin',
      passThread: 'handover',
      takeThread: 'handover',
      requestThread: 'handover',
      appRoles: 'handover',
      edit: 'edit',
    });
  });
});
