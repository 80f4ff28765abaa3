/*
 * ui.tsx — the small pieces every page uses: amounts and times as staff read
 * them, the server's error shown as it said it, a loader for one request, a
 * cursor-paginated list (never loads everything: one page at a time, "More"
 * asks the server for the next), and a dialog that asks for a reason (the
 * reason field has the focus when it opens; Escape closes it).
 */
import type { ComponentChildren } from 'preact';
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { ApiError, get, type Query } from '../lib/api';
import { money, time } from '../lib/format';

export function Money({ amount, currency }: { amount: string | null | undefined; currency?: string | null }) {
  return <span class={`money${amount?.startsWith('-') ? ' neg' : ''}`}>{money(amount, currency)}</span>;
}

export function Time({ at }: { at: string | null | undefined }) {
  return (
    <time dateTime={at ?? undefined} title={at ?? undefined}>
      {time(at)}
    </time>
  );
}

export function ErrorBox({ error }: { error: unknown }) {
  if (!error) return null;
  const text =
    error instanceof ApiError ? `${error.code}: ${error.message}` : error instanceof Error ? error.message : String(error);
  return (
    <p class="error" role="alert">
      {text}
    </p>
  );
}

/** Runs fn when deps change: {data, error, loading, reload}. */
export function useAsync<T>(fn: () => Promise<T>, deps: unknown[]) {
  const [state, setState] = useState<{ data?: T; error?: unknown; loading: boolean }>({ loading: true });
  const gen = useRef(0);
  const run = useCallback(() => {
    const g = ++gen.current;
    setState((s) => ({ ...s, loading: true }));
    fn().then(
      (data) => g === gen.current && setState({ data, loading: false }),
      (error) => g === gen.current && setState({ error, loading: false }),
    );
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, deps);
  useEffect(run, [run]);
  return { ...state, reload: run };
}

/**
 * A cursor-paginated list: GET path?…query&limit=…&cursor=… answering
 * {"<key>": [...], "next_cursor": …}. Pages accumulate; changing the query starts over.
 */
export function usePaged<T>(path: string, key: string, query: Query, limit = 50) {
  const [items, setItems] = useState<T[]>([]);
  const [cursor, setCursor] = useState<string | number | null>(null);
  const [done, setDone] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [loading, setLoading] = useState(false);
  const gen = useRef(0);
  const qkey = JSON.stringify([path, query, limit]);

  const load = useCallback(
    async (from: string | number | null, reset: boolean) => {
      const g = reset ? ++gen.current : gen.current;
      setLoading(true);
      setError(null);
      try {
        const body = await get<Record<string, unknown>>(path, { ...query, limit, cursor: from ?? undefined });
        if (g !== gen.current) return;
        const page = (body[key] as T[]) ?? [];
        setItems((prev) => (reset ? page : [...prev, ...page]));
        const next = (body.next_cursor as string | number | null) ?? null;
        setCursor(next);
        setDone(next === null);
      } catch (e) {
        if (g === gen.current) setError(e);
      } finally {
        if (g === gen.current) setLoading(false);
      }
    },
    // eslint-disable-next-line react-hooks/exhaustive-deps
    [qkey],
  );

  useEffect(() => {
    setItems([]);
    setCursor(null);
    setDone(false);
    load(null, true);
  }, [load]);

  return {
    items,
    error,
    loading,
    done,
    more: () => !done && !loading && load(cursor, false),
    reload: () => load(null, true),
  };
}

/** The "More" button under a paged list. */
export function Pager({ list }: { list: { loading: boolean; done: boolean; more: () => unknown; items: unknown[] } }) {
  return (
    <div class="pager">
      <span>{list.items.length} shown</span>
      {!list.done && (
        <button disabled={list.loading} onClick={() => list.more()}>
          {list.loading ? 'Loading…' : 'More'}
        </button>
      )}
    </div>
  );
}

/**
 * A modal's submission: `submit` runs `action` (busy meanwhile), closes the modal
 * when it succeeds and keeps it open with the error otherwise. With `escape`,
 * Escape closes the modal too, except while the action is in flight.
 */
export function useDialogSubmit(action: () => Promise<unknown>, onClose: () => void, escape = false) {
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const state = useRef({ busy, onClose });
  state.current = { busy, onClose };
  useEffect(() => {
    if (!escape) return;
    const onKey = (e: KeyboardEvent) => {
      if (e.key !== 'Escape' || state.current.busy) return;
      e.preventDefault();
      state.current.onClose();
    };
    document.addEventListener('keydown', onKey);
    return () => document.removeEventListener('keydown', onKey);
  }, [escape]);
  async function submit(e: Event) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await action();
      onClose();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  }
  return { error, busy, submit };
}

/**
 * A modal that asks for a reason (block, reject, …) and runs onConfirm with it.
 * The reason field takes the keyboard focus when it opens; Escape closes it
 * (Cancel), except while the request is in flight.
 */
export function ReasonDialog(props: {
  title: string;
  label?: string;
  confirm: string;
  onConfirm: (reason: string) => Promise<unknown>;
  onClose: () => void;
  children?: ComponentChildren;
}) {
  const [reason, setReason] = useState('');
  const field = useRef<HTMLTextAreaElement>(null);
  const { error, busy, submit } = useDialogSubmit(() => props.onConfirm(reason.trim()), props.onClose, true);
  useEffect(() => field.current?.focus(), []);
  return (
    <div class="modal-backdrop" role="dialog" aria-modal="true" aria-label={props.title}>
      <form class="modal" onSubmit={submit}>
        <h2>{props.title}</h2>
        {props.children}
        <label>
          {props.label ?? 'Reason'}
          <textarea
            ref={field}
            name="reason"
            required
            value={reason}
            onInput={(e) => setReason(e.currentTarget.value)}
          />
        </label>
        <ErrorBox error={error} />
        <div class="actions">
          <button type="button" onClick={props.onClose}>
            Cancel
          </button>
          <button type="submit" class="primary" disabled={busy || !reason.trim()}>
            {props.confirm}
          </button>
        </div>
      </form>
    </div>
  );
}
