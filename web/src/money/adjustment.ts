/*
 * adjustment.ts — staff balance adjustments as the UI sends and reads them
 * (src/api/admin_adjust.c, admin_adjust_4eyes.c):
 *
 *   POST /v1/admin/players/{id}/adjustments  {balance, direction, amount, reason, idempotency_key}
 *        201 (or 200 replayed): applied, {transfer_id, replayed, balance}
 *        202: at or above the brand's 4-eyes threshold, a pending request (the record below)
 *   GET  /v1/admin/adjustments?status=&brand=&limit=&cursor=, GET …/{id}
 *   POST /v1/admin/adjustments/{id}/approve | /reject {reason} → {adjustment, replayed, balance}
 *
 * Amounts stay the decimal strings staff typed and the API sends: the server
 * parses them in the player's currency (never a float here). The idempotency key
 * is the form's (AdjustBalance.tsx): one per request content, so a double click or
 * a retry after a lost answer is the same adjustment, answered again, not made twice.
 */
import { get, post } from '../lib/api';

export type AdjustmentStatus = 'pending' | 'approved' | 'rejected' | 'failed' | 'expired';

/** A request at or above its brand's threshold, waiting for (or decided by) a second member. */
export interface AdjustmentRequest {
  id: string;
  brand: string;
  player_id: string;
  balance: 'cash' | 'bonus';
  direction: 'credit' | 'debit';
  amount: string;
  currency: string;
  reason: string;
  idempotency_key: string;
  requested_by: string; // a staff id
  requested_by_email: string | null; // null when the member no longer exists
  requested_at: string;
  status: AdjustmentStatus;
  decided_by: string | null; // null for an expired one: nobody decided it
  decided_by_email: string | null; // null while pending, expired, or the member is gone
  decided_at: string | null;
  decision_reason: string | null;
  transfer_id: string | null;
  failure: string | null;
  replayed?: boolean;
}

/** The player's balances in the currency of the adjustment, as the API answers them. */
export interface Wallet {
  currency: string;
  cash: string;
  bonus: string;
  held: string;
  withdrawable: string;
  total: string;
}

/** A direct adjustment's answer (201, or 200 for a replay). */
export interface Applied {
  transfer_id: string;
  replayed: boolean;
  balance: Wallet;
}

export interface Decision {
  adjustment: AdjustmentRequest;
  replayed: boolean;
  balance: Wallet;
}

export interface AdjustmentInput {
  balance: 'cash' | 'bonus';
  direction: 'credit' | 'debit';
  amount: string;
  reason: string;
  idempotency_key: string;
}

/** The filter values of the list; "all" sends no status. */
export const STATUSES: (AdjustmentStatus | 'all')[] = ['pending', 'approved', 'rejected', 'failed', 'expired', 'all'];

/** A fresh idempotency key (crypto.getRandomValues: also outside secure contexts). */
export function newKey(): string {
  const b = new Uint8Array(16);
  crypto.getRandomValues(b);
  return `bo-adj-${[...b].map((x) => x.toString(16).padStart(2, '0')).join('')}`;
}

/**
 * POSTs an adjustment: applied (201/200 with the new balance) or, at or above the
 * brand's threshold, a request waiting for a second member (202, the request record).
 */
export async function adjustPlayer(
  playerId: string,
  input: AdjustmentInput,
): Promise<{ applied: Applied } | { pending: AdjustmentRequest }> {
  const r = await post<Applied | AdjustmentRequest>(
    `/v1/admin/players/${encodeURIComponent(playerId)}/adjustments`,
    input,
  );
  // the two answers' shapes (OpenAPI AdminAdjustment / AdminAdjustmentPending): only a request has a status
  return 'status' in r ? { pending: r as AdjustmentRequest } : { applied: r as Applied };
}

export function getAdjustment(id: string): Promise<AdjustmentRequest> {
  return get<AdjustmentRequest>(`/v1/admin/adjustments/${encodeURIComponent(id)}`);
}

export function approveAdjustment(id: string): Promise<Decision> {
  return post<Decision>(`/v1/admin/adjustments/${encodeURIComponent(id)}/approve`, {});
}

export function rejectAdjustment(id: string, reason: string): Promise<Decision> {
  return post<Decision>(`/v1/admin/adjustments/${encodeURIComponent(id)}/reject`, { reason });
}

/** "credit cash", "debit bonus". */
export function what(a: { direction: string; balance: string }): string {
  return `${a.direction} ${a.balance}`;
}

/** The amount signed from the player's view: a debit takes money away ("-12.50"). */
export function signedAmount(a: { direction: string; amount: string }): string {
  return a.direction === 'debit' && !a.amount.startsWith('-') ? `-${a.amount}` : a.amount;
}
