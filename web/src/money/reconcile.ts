/*
 * reconcile.ts — the PSP reconciliation runs as the staff API answers them
 * (GET /v1/admin/reconciliations, …/{id}; POST …, …/upload) and the PSPs the
 * server has (GET /v1/admin/psps): types and the calls the pages make.
 * Amounts are the API's decimal strings (shown with ui.tsx Money, never a float).
 */
import { get, post, postRaw } from '../lib/api';

/** The discrepancy classes, in the order the pages show them. */
export const CLASSES = ['missing_ours', 'missing_psp', 'amount_mismatch', 'status_mismatch'] as const;
export type DiscrepancyClass = (typeof CLASSES)[number];

export interface Counts {
  matched: number;
  missing_ours: number;
  status_mismatch: number;
  amount_mismatch: number;
  missing_psp: number;
}

export interface Run {
  id: string;
  psp: string;
  from: string;
  to: string; // excluded
  source: 'fetch' | 'upload';
  run_by: string; // the staff member's public id
  psp_rows: number; // the report's rows inside the period (compared)
  psp_rows_outside: number; // an uploaded file's rows outside it (not compared)
  counts: Counts;
  created_at: string;
}

export interface Item {
  n: number;
  class: DiscrepancyClass;
  kind: 'deposit' | 'payout' | 'payout_return';
  reference: string;
  brand: string | null; // null for missing_ours
  // status: as the run saw it; status_now: our record's status now (null: unreadable)
  ours: { id: string; status: string; amount: string | null; currency: string; status_now: string | null } | null;
  psp: { status: string; amount: string | null; currency: string; settled_at: string } | null;
}

export interface RunDetail extends Run {
  items: Item[];
  next_cursor: string | null;
}

export interface Psp {
  code: string;
  report_fetch: boolean;
  report_parse: boolean;
}

/** Every discrepancy of the whole report (every brand), whatever the caller sees of its items. */
export function discrepancies(c: Counts): number {
  return c.missing_ours + c.missing_psp + c.amount_mismatch + c.status_mismatch;
}

/** Our record's page: a deposit is a payment, a payout (or its return) a withdrawal. */
export function oursPath(it: Item): string | null {
  if (!it.ours) return null;
  const id = encodeURIComponent(it.ours.id);
  return it.kind === 'deposit' ? `/payments/${id}` : `/withdrawals/${id}`;
}

export const runPath = (id: string) => `/v1/admin/reconciliations/${encodeURIComponent(id)}`;

/** The run's facts (the first item only: the page reads its items a page at a time). */
export const getRun = (id: string) => get<RunDetail>(runPath(id), { limit: 1 });

export const listPsps = async () => (await get<{ psps: Psp[] }>('/v1/admin/psps')).psps;

/** A run with the report fetched from the PSP by its adapter. */
export const runFetch = (psp: string, from: string, to: string) =>
  post<RunDetail>('/v1/admin/reconciliations', { psp, from, to });

/** A run of the report file the PSP delivered, sent as it is (text/csv). */
export const runUpload = (psp: string, from: string, to: string, file: Blob) =>
  postRaw<RunDetail>('/v1/admin/reconciliations/upload', file, 'text/csv', { psp, from, to });

/** A status_mismatch deposit the PSP settled (the run's report fetched from it), still not
 * completed here: finance may credit the player on the run's evidence. */
export function creditable(r: Run, it: Item): boolean {
  return (
    r.source === 'fetch' &&
    it.class === 'status_mismatch' &&
    it.kind === 'deposit' &&
    it.psp?.status === 'settled' &&
    !!it.ours &&
    it.ours.status_now !== 'completed'
  );
}

/** Completes the deposit on the run's evidence (POST /v1/admin/payments/{id}/complete). */
export const completeDeposit = (payment: string, reconciliation_id: string, reason: string) =>
  post<{ id: string; status: string }>(`/v1/admin/payments/${encodeURIComponent(payment)}/complete`, {
    reconciliation_id,
    reason,
  });
