/*
 * events.ts — the staff event stream (GET /v1/admin/events/stream) read with fetch.
 *
 * EventSource cannot send an Authorization header, so the stream is read with
 * fetch and a streaming TextDecoder, and Server-Sent Events are parsed here:
 * lines "field: value" (id, event, data, retry), comment lines (": hb", the
 * server's heartbeats every 15 s of silence), a blank line ends a frame.
 *
 * Each connection takes a fresh access token (authorization() refreshes it when
 * it is about to end; staff tokens last 5 minutes) and sends Last-Event-ID = the
 * last event id seen, so a reconnect resumes exactly once and in order. The
 * server ends a stream with control frames (no id):
 *   end {reason: credentials_expired}  the token that opened it expired:
 *                                       reconnect at once with a fresh one;
 *   end {reason: caught_up}             (catch_up_only) — not used here;
 *   dropped                             we read too slowly: reconnect, resume;
 *   reset {oldest_id}                   the events after our id are gone
 *                                       (retention): a GAP — the page re-takes
 *                                       its snapshot (onGap).
 * A connection that fails or goes silent (no byte, not even a heartbeat, for
 * 45 s) is retried with backoff (the server's `retry`, doubling to 30 s). A
 * stream opened without any id (nothing to resume from) that has to reconnect
 * also reports a gap. A 401 that a refresh cannot cure, or a 403, ends it
 * (status "closed" with the server's error).
 */
import { authorization, refresh } from './api';

export interface StreamEvent {
  id: number;
  type: string;
  brand: string | null;
  subject: string | null;
  created_at: string;
  trace_id?: string;
  payload: Record<string, unknown>;
}

export type StreamStatus = 'connecting' | 'live' | 'retrying' | 'closed';

export interface StreamOptions {
  /** Resume after this id (the snapshot's last_event_id); null: from now. */
  lastEventId: number | null;
  onEvent: (e: StreamEvent) => void;
  /** Events may have been missed: re-take the snapshot, then keep applying. */
  onGap?: (why: string) => void;
  onStatus?: (s: StreamStatus, detail?: string) => void;
}

export interface EventStream {
  close(): void;
  lastEventId(): number | null;
}

interface Frame {
  id?: string;
  event?: string;
  data: string[];
  retry?: number;
  comment?: boolean;
}

const SILENCE_MS = 45_000;

/** Splits SSE text into frames; keeps what is incomplete in the parser's buffer. */
export class SseParser {
  private buf = '';
  private cur: Frame = { data: [] };
  private pendingCR = false;

  /** Feeds decoded text; returns the frames completed by it. */
  push(text: string): Frame[] {
    const out: Frame[] = [];
    if (this.pendingCR && text.startsWith('\n')) text = text.slice(1);
    this.pendingCR = false;
    this.buf += text;
    for (;;) {
      const m = /\r\n|\r|\n/.exec(this.buf);
      if (!m) break;
      if (m[0] === '\r' && m.index === this.buf.length - 1) {
        this.pendingCR = true; // a CR at the end: maybe the first half of CRLF
      }
      const line = this.buf.slice(0, m.index);
      this.buf = this.buf.slice(m.index + m[0].length);
      this.line(line, out);
    }
    return out;
  }

  private line(line: string, out: Frame[]) {
    if (line === '') {
      const f = this.cur;
      this.cur = { data: [] };
      if (f.id !== undefined || f.event !== undefined || f.data.length || f.retry !== undefined || f.comment)
        out.push(f);
      return;
    }
    if (line.startsWith(':')) {
      this.cur.comment = true;
      return;
    }
    const i = line.indexOf(':');
    const field = i < 0 ? line : line.slice(0, i);
    let value = i < 0 ? '' : line.slice(i + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'id') this.cur.id = value;
    else if (field === 'event') this.cur.event = value;
    else if (field === 'data') this.cur.data.push(value);
    else if (field === 'retry' && /^\d+$/.test(value)) this.cur.retry = Number(value);
  }
}

/** Opens the stream; it reconnects by itself until close(). */
export function openEventStream(opts: StreamOptions): EventStream {
  let last: number | null = opts.lastEventId;
  let closed = false;
  let controller: AbortController | null = null;
  let baseDelay = 3000;
  let failures = 0;
  let forceRefresh = false;
  let authFailures = 0;
  let everConnected = false;
  const status = (s: StreamStatus, d?: string) => opts.onStatus?.(s, d);

  const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

  async function connectOnce(): Promise<'again' | 'now' | 'stop'> {
    if (forceRefresh) {
      forceRefresh = false;
      if (!(await refresh())) {
        status('closed', 'the session has ended: log in again');
        return 'stop';
      }
    }
    const auth = await authorization();
    if (!auth) {
      status('closed', 'not logged in');
      return 'stop';
    }
    if (everConnected && last === null) opts.onGap?.('reconnected without a position');
    controller = new AbortController();
    const headers: Record<string, string> = { Authorization: auth, Accept: 'text/event-stream' };
    if (last !== null) headers['Last-Event-ID'] = String(last);
    status('connecting');
    let res: Response;
    try {
      res = await fetch('/v1/admin/events/stream', { headers, signal: controller.signal, cache: 'no-store' });
    } catch {
      return closed ? 'stop' : 'again';
    }
    if (res.status === 401) {
      await res.text().catch(() => '');
      if (++authFailures > 2) {
        status('closed', 'the session has ended: log in again');
        return 'stop';
      }
      forceRefresh = true; // a fresh token, at once
      return 'now';
    }
    if (res.status === 403) {
      const body = await res.json().catch(() => ({}));
      status('closed', body?.error?.message ?? 'not allowed to read the event stream');
      return 'stop';
    }
    if (!res.ok || !res.body) {
      const ra = Number(res.headers.get('Retry-After'));
      await res.text().catch(() => '');
      if (ra > 0) await sleep(Math.min(ra, 60) * 1000);
      return 'again';
    }
    everConnected = true;
    authFailures = 0;
    status('live');
    const reader = res.body.getReader();
    const decoder = new TextDecoder();
    const parser = new SseParser();
    let watchdog = setTimeout(() => controller?.abort(), SILENCE_MS);
    let next: 'again' | 'now' = 'again';
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        clearTimeout(watchdog);
        watchdog = setTimeout(() => controller?.abort(), SILENCE_MS);
        for (const f of parser.push(decoder.decode(value, { stream: true }))) {
          if (f.retry !== undefined) baseDelay = Math.max(500, f.retry);
          if (f.id !== undefined && f.data.length) {
            failures = 0;
            let e: StreamEvent;
            try {
              e = JSON.parse(f.data.join('\n')) as StreamEvent;
            } catch {
              continue;
            }
            const id = Number(f.id);
            if (last !== null && id <= last) continue; // never twice
            last = id;
            opts.onEvent(e);
          } else if (f.event === 'end') {
            let reason = '';
            try {
              reason = JSON.parse(f.data.join('\n')).reason ?? '';
            } catch {
              /* none */
            }
            if (reason === 'credentials_expired') forceRefresh = true;
            next = 'now';
          } else if (f.event === 'dropped') {
            next = 'now';
          } else if (f.event === 'reset') {
            opts.onGap?.('events were pruned before we could read them');
          }
        }
      }
    } catch {
      /* aborted or the connection broke */
    } finally {
      clearTimeout(watchdog);
    }
    return closed ? 'stop' : next;
  }

  (async () => {
    while (!closed) {
      const r = await connectOnce();
      if (r === 'stop' || closed) break;
      if (r === 'now') {
        failures = 0;
        continue;
      }
      failures++;
      status('retrying');
      const delay = Math.min(30_000, baseDelay * 2 ** Math.min(failures - 1, 4));
      await sleep(delay * (0.75 + Math.random() * 0.5));
    }
  })();

  return {
    close() {
      closed = true;
      controller?.abort();
    },
    lastEventId: () => last,
  };
}
