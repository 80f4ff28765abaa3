/*
 * live.ts — the withdrawal pages follow the staff event stream (lib/events.ts):
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

/** Calls onEvent for each withdrawal.* event while mounted; the stream's status. */
export function useWithdrawalEvents(onEvent: (e: StreamEvent, id: string) => void, onGap: () => void): StreamStatus {
  const cb = useRef({ onEvent, onGap });
  cb.current = { onEvent, onGap };
  const [status, setStatus] = useState<StreamStatus>('connecting');
  useEffect(() => {
    const s = openEventStream({
      lastEventId: null,
      onEvent: (e) => {
        const id = e.payload?.withdrawal_id;
        if (e.type.startsWith('withdrawal.') && typeof id === 'string') cb.current.onEvent(e, id);
      },
      onGap: () => cb.current.onGap(),
      onStatus: (st) => setStatus(st),
    });
    return () => s.close();
  }, []);
  return status;
}
