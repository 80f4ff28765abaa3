/*
 * live.ts — the money pages follow the staff event stream (lib/events.ts): the
 * withdrawals (below), the adjustment requests and the unclaimed-funds settlement
 * requests (their hooks at the end) re-read a shown record its event names and
 * announce new requests. The withdrawal pages:
 * withdrawal.requested / approval_recorded / approved / approval_lapsed (an approver
 * lost the right: pending_approval again) / payout_sent (processing) / rejected /
 * cancelled / paid / failed carry payload.withdrawal_id and the new status. The stream is opened from "now"
 * (the page has just read the list) and closed when the page goes; a gap (a
 * reconnect without a position, pruned events) asks the page to re-read.
 * A first approval of a 4-eyes withdrawal (withdrawal.approval_recorded, still
 * pending_approval) re-reads the row too, so the second approver sees it.
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import { type StreamEvent, type StreamStatus, openEventStream } from '../lib/events';

/**
 * Calls onEvent for each event whose type starts with one of `prefixes` and whose
 * payload names the record in `idField`, while mounted; the stream's status.
 */
export function useRecordEvents(
  prefixes: string[],
  idField: string,
  onEvent: (e: StreamEvent, id: string) => void,
  onGap: () => void,
): StreamStatus {
  const cb = useRef({ onEvent, onGap });
  cb.current = { onEvent, onGap };
  const [status, setStatus] = useState<StreamStatus>('connecting');
  const key = JSON.stringify([prefixes, idField]);
  useEffect(() => {
    const s = openEventStream({
      lastEventId: null,
      onEvent: (e) => {
        const id = e.payload?.[idField];
        if (prefixes.some((p) => e.type.startsWith(p)) && typeof id === 'string') cb.current.onEvent(e, id);
      },
      onGap: () => cb.current.onGap(),
      onStatus: (st) => setStatus(st),
    });
    return () => s.close();
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [key]);
  return status;
}

/** Calls onEvent for each withdrawal.* event while mounted; the stream's status. */
export function useWithdrawalEvents(onEvent: (e: StreamEvent, id: string) => void, onGap: () => void): StreamStatus {
  return useRecordEvents(['withdrawal.'], 'withdrawal_id', onEvent, onGap);
}

/**
 * The 4-eyes adjustment requests' events: balance.adjustment_requested / _rejected /
 * _expired and balance.adjusted of an approved request (payload.adjustment_id; an
 * adjustment applied at once has none and is not reported).
 */
export function useAdjustmentEvents(onEvent: (e: StreamEvent, id: string) => void, onGap: () => void): StreamStatus {
  return useRecordEvents(['balance.adjust'], 'adjustment_id', onEvent, onGap);
}

/**
 * The unclaimed-funds settlement requests' events: funds.unclaimed_settlement_requested
 * / _rejected / _expired and funds.unclaimed_settled (payload.settlement_id).
 */
export function useSettlementEvents(onEvent: (e: StreamEvent, id: string) => void, onGap: () => void): StreamStatus {
  return useRecordEvents(['funds.unclaimed_settle'], 'settlement_id', onEvent, onGap);
}

/** What an event is to a queue: a new request matching its filters (announced), a
 * change to a record (re-read when shown), or nothing to it. */
export type QueueEvent = 'new' | 'change' | 'other';

/**
 * A paged queue that follows its records' events (Withdrawals, Adjustments, the
 * pending settlements): `classify` sorts each event; a change to a shown record is
 * re-read (`reread`) into `latest` (rows keep their place); new requests are counted
 * in `fresh` for a "show" button, never inserted: distinct records, so one announced
 * twice (a withdrawal requested, then back in the queue when its approval lapsed)
 * counts once; `freshIds` names each record announced so with the type of the first
 * event that announced it (a page that tells kinds apart counts each record once:
 * Payments, a deposit made and then settled while the page is open). `reload` (the
 * button, Refresh, a gap in the stream) re-reads the list and starts them over, as a
 * change of `filters` does.
 * `onEvent` sees every event of the kind after it is sorted. `refresh(id)` re-reads
 * a shown record into `latest` on the page's own cue (Payments: an intent's expiry,
 * which no event announces); it resolves to the record read, or null when it could
 * not be read.
 */
export function useLiveQueue<T extends { id: string }>(opts: {
  list: { items: T[]; reload: () => void };
  events: (onEvent: (e: StreamEvent, id: string) => void, onGap: () => void) => StreamStatus;
  classify: (e: StreamEvent, id: string, shown: Set<string>) => QueueEvent;
  reread: (id: string) => Promise<T>;
  filters: unknown[];
  onEvent?: (e: StreamEvent) => void;
}) {
  const [latest, setLatest] = useState<Record<string, T>>({});
  const [freshIds, setFreshIds] = useState<Record<string, string>>({});
  const shown = new Set(opts.list.items.map((x) => x.id));
  function reload() {
    setFreshIds({});
    setLatest({});
    opts.list.reload();
  }
  async function refresh(id: string): Promise<T | null> {
    try {
      const now = await opts.reread(id);
      setLatest((m) => ({ ...m, [id]: now }));
      return now;
    } catch {
      return null; /* the next refresh shows it */
    }
  }
  const live = opts.events(
    async (e, id) => {
      const what = opts.classify(e, id, shown);
      opts.onEvent?.(e);
      if (what === 'new') setFreshIds((m) => (id in m ? m : { ...m, [id]: e.type }));
      if (what !== 'change' || !shown.has(id)) return;
      await refresh(id);
    },
    () => reload(),
  );
  useEffect(() => {
    setFreshIds({});
    setLatest({});
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, opts.filters);
  // each record once, however many of its events announced it; none the list shows (an
  // event that came before the list was read names a record the list has since brought)
  const unshown = Object.fromEntries(Object.entries(freshIds).filter(([id]) => !shown.has(id)));
  const fresh = Object.keys(unshown).length;
  return { live, latest, fresh, freshIds: unshown, reload, refresh };
}
