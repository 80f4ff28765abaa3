/*
 * WithdrawalManual.tsx — a payout under way that the PSP cannot report on, settled
 * by hand with 4-eyes (the detail page of Withdrawals.tsx; see its header): "Resolve
 * with the PSP", the first member's statement of the outcome (paid/failed, a reason,
 * evidence), the statement's box with its withdrawal and the second member's
 * confirmation, in which they pick the outcome themselves (nothing pre-filled).
 */
import { useState } from 'preact/hooks';
import type { ComponentChildren } from 'preact';
import { ApiError } from '../lib/api';
import { useSession } from '../lib/session';
import { ErrorBox, Money, ReasonDialog, Time, useDialogSubmit } from '../components/ui';
import { StaffName } from './common';
import {
  MOVING,
  type ManualResolution,
  type Outcome,
  type Withdrawal,
  confirmManualResolution,
  resolveWithdrawal,
  stateManualResolution,
  withdrawManualResolution,
} from './withdrawal';
/** A payout sent but not settled: "Resolve with the PSP" and its dialog; on the
 * detail page also "Settle by hand" (the 4-eyes manual resolution) while no
 * statement waits (one that waits is shown, with its actions, by ManualResolutionBox). */
export function ResolveAction({ w, onChange, detail }: { w: Withdrawal; onChange: (w: Withdrawal) => void; detail?: boolean }) {
  const { me } = useSession();
  const [open, setOpen] = useState<'resolve' | 'settle' | null>(null);
  return (
    <div class="m-actions">
      <button data-testid="resolve" onClick={() => setOpen('resolve')}>
        Resolve with the PSP
      </button>
      {detail && !w.manual_resolution && (
        <button data-testid="settle" onClick={() => setOpen('settle')}>
          Settle by hand
        </button>
      )}
      {!detail && w.manual_resolution && (
        <span class="m-needs" data-testid="statement-waits">
          {statedOutcome(w, me.staff.id) ? `stated ${statedOutcome(w, me.staff.id)}` : 'settled by hand'}: needs a
          second member
        </span>
      )}
      {open === 'resolve' && (
        <ReasonDialog
          title="Resolve a stuck payout"
          label="Reason (kept in the audit log)"
          confirm="Ask the PSP and resolve"
          onConfirm={async (reason) => onChange(await resolveWithdrawal(w.id, reason))}
          onClose={() => setOpen(null)}
        >
          <p>
            The PSP is asked what became of the payout of <Money amount={w.amount} currency={w.currency} /> to
            player <code>{w.player}</code>. Paid: the withdrawal ends paid. Failed or never taken: the hold is
            released and the money is back with the player. Still pending, or the PSP cannot say: nothing
            changes.
          </p>
        </ReasonDialog>
      )}
      {open === 'settle' && <SettleDialog w={w} onChange={onChange} onClose={() => setOpen(null)} />}
    </div>
  );
}

/** The outcome (paid / failed, nothing pre-selected) and the reason, as both the
 * statement and its confirmation ask for them. */
function OutcomeFields(props: {
  legend: string;
  outcome: Outcome | '';
  setOutcome: (o: Outcome) => void;
  reason: string;
  setReason: (r: string) => void;
}) {
  const { outcome, setOutcome, reason, setReason } = props;
  return (
    <>
      <fieldset class="m-outcome">
        <legend>{props.legend}</legend>
        <label class="m-inline">
          <input
            type="radio"
            name="outcome"
            value="paid"
            checked={outcome === 'paid'}
            onChange={() => setOutcome('paid')}
          />
          paid — the player got the money (the hold is posted)
        </label>
        <label class="m-inline">
          <input
            type="radio"
            name="outcome"
            value="failed"
            checked={outcome === 'failed'}
            onChange={() => setOutcome('failed')}
          />
          failed — they did not and never will (the hold is released, the money back)
        </label>
      </fieldset>
      <label>
        Reason (kept in the audit log)
        <textarea name="reason" required maxLength={1000} value={reason} onInput={(e) => setReason(e.currentTarget.value)} />
      </label>
    </>
  );
}

/** A dialog whose form is the caller's fields: submit runs onSubmit (its error shown,
 * the dialog kept), Escape or Cancel closes it unless busy. */
function FormDialog(props: {
  title: string;
  confirm: string;
  ready: boolean;
  testid: string;
  onSubmit: () => Promise<unknown>;
  onClose: () => void;
  /** More words on a refusal, under the server's own (null: none). */
  explain?: (error: unknown) => ComponentChildren;
  children: ComponentChildren;
}) {
  const { error, busy, submit } = useDialogSubmit(props.onSubmit, props.onClose, true);
  return (
    <div class="modal-backdrop" role="dialog" aria-modal="true" aria-label={props.title} data-testid={props.testid}>
      <form class="modal" onSubmit={submit}>
        <h2>{props.title}</h2>
        {props.children}
        <ErrorBox error={error} />
        {error && props.explain ? props.explain(error) : null}
        <div class="actions">
          <button type="button" onClick={props.onClose}>
            Cancel
          </button>
          <button type="submit" class="primary" disabled={busy || !props.ready}>
            {props.confirm}
          </button>
        </div>
      </form>
    </div>
  );
}

/** The first member's statement of what became of the payout: outcome, reason, evidence. */
function SettleDialog({ w, onChange, onClose }: { w: Withdrawal; onChange: (w: Withdrawal) => void; onClose: () => void }) {
  const [outcome, setOutcome] = useState<Outcome | ''>('');
  const [reason, setReason] = useState('');
  const [evidence, setEvidence] = useState('');
  return (
    <FormDialog
      title="Settle a stuck payout by hand"
      confirm="State the outcome"
      testid="settle-dialog"
      ready={outcome !== '' && reason.trim() !== '' && evidence.trim() !== ''}
      onSubmit={async () =>
        outcome && onChange(await stateManualResolution(w.id, outcome, reason.trim(), evidence.trim()))
      }
      onClose={onClose}
    >
      <p>
        For a payout the PSP cannot report on (use “Resolve with the PSP” first). State what you established out
        of band about the payout of <Money amount={w.amount} currency={w.currency} /> to player{' '}
        <code>{w.player}</code>. Nothing moves now: a second finance member must confirm the same outcome.
      </p>
      <OutcomeFields legend="Outcome" outcome={outcome} setOutcome={setOutcome} reason={reason} setReason={setReason} />
      <label>
        Evidence (the PSP dashboard entry, bank statement line, ticket)
        <input
          name="evidence"
          required
          maxLength={500}
          value={evidence}
          onInput={(e) => setEvidence(e.currentTarget.value)}
        />
      </label>
    </FormDialog>
  );
}

/** The outcome of the statement waiting on w as this member may see it: its author
 * sees it; anyone else does not (null), so that the second member establishes the
 * outcome from the evidence and picks it themselves (4-eyes: two independent
 * findings; the server refuses one that differs with MANUAL_RESOLUTION_CONFLICT). */
export function statedOutcome(w: Withdrawal, staffId: string): Outcome | null {
  const m = w.manual_resolution;
  return m && m.stated_by.staff_id === staffId ? m.outcome : null;
}

/** The second member's confirmation: they pick the outcome themselves (nothing
 * chosen beforehand) and give a reason; the server checks it against the statement.
 * Another outcome is 409 MANUAL_RESOLUTION_CONFLICT: nothing moved, the statement
 * stays, and the dialog says so. */
function ConfirmManualDialog({ w, onChange, onClose }: { w: Withdrawal; onChange: (w: Withdrawal) => void; onClose: () => void }) {
  const [outcome, setOutcome] = useState<Outcome | ''>('');
  const [reason, setReason] = useState('');
  const [tried, setTried] = useState<Outcome | ''>('');
  return (
    <FormDialog
      title="Confirm a payout settled by hand"
      confirm={
        outcome === 'paid'
          ? 'Confirm paid: post the hold'
          : outcome === 'failed'
            ? 'Confirm failed: release the hold'
            : 'Confirm the outcome'
      }
      testid="confirm-manual-dialog"
      ready={outcome !== '' && reason.trim() !== ''}
      onSubmit={async () => {
        if (!outcome) return;
        setTried(outcome);
        onChange(await confirmManualResolution(w.id, outcome, reason.trim()));
      }}
      explain={(err) =>
        err instanceof ApiError && err.code === 'MANUAL_RESOLUTION_CONFLICT' ? (
          <p class="error" data-testid="manual-conflict">
            You found the payout <strong>{tried}</strong>, but the member who stated it found otherwise. Nothing moved
            and their statement stays. Check the evidence again with them: if the statement is wrong, its author
            withdraws it and the payout is stated again.
          </p>
        ) : null
      }
      onClose={onClose}
    >
      <p>
        Establish yourself, from the evidence above and your own sources, what became of the payout of{' '}
        <Money amount={w.amount} currency={w.currency} /> to player <code>{w.player}</code>, and pick it. It settles
        the payout only if it is the outcome the first member stated; the member who stated it may not confirm it
        (4-eyes).
      </p>
      <OutcomeFields legend="What became of the payout" outcome={outcome} setOutcome={setOutcome} reason={reason} setReason={setReason} />
    </FormDialog>
  );
}

/** A statement waiting for its confirmation: who stated it and when, the reason and
 * evidence (the outcome only to its author: the second member finds it themselves);
 * "Confirm" (the second member picks the outcome: see ConfirmManualDialog; the server
 * refuses the stating member with FOUR_EYES_VIOLATION, shown as it says it) and, to
 * the stating member, "Withdraw statement". */
export function ManualResolutionBox({ w, onChange }: { w: Withdrawal; onChange: (w: Withdrawal) => void }) {
  const { me, can } = useSession();
  const [open, setOpen] = useState<'confirm' | 'withdraw' | null>(null);
  const m = w.manual_resolution as ManualResolution;
  const mine = m.stated_by.staff_id === me.staff.id;
  const shown = statedOutcome(w, me.staff.id);
  const canAct = can('finance.withdrawals.approve') && MOVING.has(w.status);
  return (
    <section class="m-manual" data-testid="manual-resolution" data-outcome={shown ?? undefined}>
      <h2>Settled by hand: waiting for a second member</h2>
      <dl class="m-facts">
        <dt>Outcome stated</dt>
        <dd>
          {shown ? (
            <strong data-testid="manual-outcome">{shown}</strong>
          ) : (
            <span class="m-muted" data-testid="manual-outcome-hidden">
              not shown: establish it yourself from the evidence and pick it when you confirm
            </span>
          )}
        </dd>
        <dt>By</dt>
        <dd data-testid="manual-stated-by">
          <StaffName id={m.stated_by.staff_id} email={m.stated_by.email} role={m.stated_by.role} />{' '}
          <Time at={m.stated_at} /> (the withdrawal was {m.from_status})
        </dd>
        <dt>Reason</dt>
        <dd data-testid="manual-reason">{m.reason}</dd>
        <dt>Evidence</dt>
        <dd data-testid="manual-evidence">{m.evidence}</dd>
      </dl>
      {canAct && (
        <div class="m-actions">
          <button class="primary" data-testid="manual-confirm" onClick={() => setOpen('confirm')}>
            Confirm…
          </button>
          {mine && (
            <>
              <button data-testid="manual-withdraw" onClick={() => setOpen('withdraw')}>
                Withdraw statement
              </button>
              <span class="m-muted" data-testid="manual-mine">
                you stated it: a different finance member must confirm
              </span>
            </>
          )}
        </div>
      )}
      {open === 'confirm' && <ConfirmManualDialog w={w} onChange={onChange} onClose={() => setOpen(null)} />}
      {open === 'withdraw' && (
        <ReasonDialog
          title="Withdraw your statement"
          label="Reason (kept in the audit log)"
          confirm="Withdraw statement"
          onConfirm={async (reason) => onChange(await withdrawManualResolution(w.id, reason))}
          onClose={() => setOpen(null)}
        >
          <p>Nothing moves; the payout can be stated again, by anyone.</p>
        </ReasonDialog>
      )}
    </section>
  );
}
