/*
 * withdrawal.ts — the staff view of a withdrawal (GET /v1/admin/withdrawals…)
 * and the 4-eyes rules as the UI applies them to decide what to offer. The
 * server decides (cashier.h: below the brand's threshold one approval, at or
 * above it two by two different members; the member who asked on the player's
 * behalf never approves); the UI only avoids offering what it would refuse.
 */
import { get, post } from '../lib/api';

export interface Approval {
  staff_id: string;
  /** The approver's e-mail (null if the staff member no longer exists). */
  email: string | null;
  role: string;
  at: string;
}

export interface Withdrawal {
  id: string;
  status: 'pending_approval' | 'approved' | 'processing' | 'paid' | 'failed' | 'rejected' | 'cancelled' | 'returned';
  amount: string;
  currency: string;
  approvals_required: 1 | 2;
  psp: string;
  psp_reference: string | null;
  reason: string | null;
  created_at: string;
  updated_at: string;
  brand: string;
  player: string;
  requested_by: { kind: 'player' | 'staff'; id: string; email?: string | null };
  checks: { check: string; result: string; note?: string }[];
  /** The player gate as it stands now (an approval of a player blocked since is refused). */
  current_checks?: { check: string; result: string; code?: string }[];
  approvals: Approval[];
  /** A stuck payout's outcome stated by hand by one finance member, waiting for a
   * second one to confirm it (4-eyes); null when none waits. */
  manual_resolution?: ManualResolution | null;
}

export type Outcome = 'paid' | 'failed';

export interface ManualResolution {
  /** Only to the member who stated it: null to everyone else until it is confirmed. */
  outcome: Outcome | null;
  reason: string;
  evidence: string;
  stated_by: { staff_id: string; email: string | null; role: string };
  stated_at: string;
  from_status: 'approved' | 'processing';
}

export const STATUSES = ['pending_approval', 'approved', 'processing', 'paid', 'failed', 'rejected', 'cancelled', 'returned'];

/** States the sandbox PSP still moves on its own (approved → processing → paid/failed). */
export const MOVING = new Set(['approved', 'processing']);

/** Waiting for approval and above the threshold: the 4-eyes flow applies. */
export function fourEyes(w: Withdrawal): boolean {
  return w.approvals_required >= 2;
}

/** Approvals still missing (0 once it left pending_approval). */
export function missingApprovals(w: Withdrawal): number {
  if (w.status !== 'pending_approval') return 0;
  return Math.max(0, w.approvals_required - w.approvals.length);
}

/** Why this member may not approve it ("" when they may). */
export function whyNotApprove(w: Withdrawal, staffId: string, canApprove: boolean): string {
  if (!canApprove) return 'your role does not approve withdrawals';
  if (w.status !== 'pending_approval') return `it is ${w.status.replace(/_/g, ' ')}`;
  if (w.approvals.some((a) => a.staff_id === staffId)) return 'you approved it already: a second member must';
  if (w.requested_by.kind === 'staff' && w.requested_by.id === staffId)
    return 'you requested it on the player’s behalf';
  return '';
}

export const getWithdrawal = (id: string) => get<Withdrawal>(`/v1/admin/withdrawals/${encodeURIComponent(id)}`);
export const approveWithdrawal = (id: string) =>
  post<Withdrawal>(`/v1/admin/withdrawals/${encodeURIComponent(id)}/approve`, {});
export const rejectWithdrawal = (id: string, reason: string) =>
  post<Withdrawal>(`/v1/admin/withdrawals/${encodeURIComponent(id)}/reject`, { reason });
/** A stuck payout (approved, or processing without its webhook): the cashier asks the
 * PSP what became of it and posts or voids the hold accordingly (409 when it cannot say). */
export const resolveWithdrawal = (id: string, reason: string) =>
  post<Withdrawal>(`/v1/admin/withdrawals/${encodeURIComponent(id)}/resolve`, { reason });

const manual = (id: string, tail = '') =>
  `/v1/admin/withdrawals/${encodeURIComponent(id)}/manual-resolution${tail}`;
/** Settling by hand a payout the PSP cannot report on, 4-eyes: one member states the
 * outcome (nothing moves), a different one confirms the same outcome (the money moves);
 * the stating member may withdraw the statement meanwhile. */
export const stateManualResolution = (id: string, outcome: Outcome, reason: string, evidence: string) =>
  post<Withdrawal>(manual(id), { outcome, reason, evidence });
export const confirmManualResolution = (id: string, outcome: Outcome, reason: string) =>
  post<Withdrawal>(manual(id, '/confirm'), { outcome, reason });
export const withdrawManualResolution = (id: string, reason: string) =>
  post<Withdrawal>(manual(id, '/withdraw'), { reason });
