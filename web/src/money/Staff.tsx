/*
 * Staff.tsx — staff and roles (/staff, staff.read).
 *
 *   GET   /v1/admin/staff                     the members the caller's scope covers (pages)
 *   POST  /v1/admin/staff                     staff.manage: {email, role, all_brands | brands}
 *                                             → the member and a one-time password
 *   PATCH /v1/admin/staff/{id}                staff.manage: role, all_brands, brands, active
 *   POST  /v1/admin/staff/{id}/totp/reset     staff.manage: {reason}
 *                                             → the member and a new one-time password
 *   GET   /v1/admin/staff/{id}                the member's per-address login locks
 *   POST  /v1/admin/staff/{id}/unlock         staff.manage: {reason} → the locks end now
 *
 * The one-time password is shown once, in the dialog that follows creation or
 * a TOTP reset (which replaces the member's password too: a leaked password
 * alone must not enrol a new authenticator), with a copy button and the
 * first-login steps; closing it forgets it (it is never stored anywhere in the
 * page). All brands is offered only for the roles
 * that may hold it (admin and auditor: src/identity/rbac.c
 * pb_role_may_be_global) and only to a caller who sees every brand (the server
 * refuses the rest: BRAND_FORBIDDEN). Nobody edits themselves here (the server
 * refuses it: 403).
 */
import type { ComponentChildren } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { get, patch, post } from '../lib/api';
import { useSession } from '../lib/session';
import { ErrorBox, Pager, ReasonDialog, Time, usePaged } from '../components/ui';
import { CopyButton, type Brand, useBrands } from './common';

interface StaffMember {
  id: string;
  email: string;
  role: string;
  all_brands: boolean;
  brands: string[];
  active: boolean;
  must_change_password: boolean;
  totp_enrolled: boolean;
  locked_until: string | null;
  last_login_at: string | null;
  created_at: string;
  updated_at: string;
}

export const ROLES = ['admin', 'support', 'finance', 'risk', 'compliance', 'game_ops', 'auditor'];
const mayBeGlobal = (role: string) => role === 'admin' || role === 'auditor';

/** Role, all-brands switch and brand checkboxes; shared by create and edit. */
function ScopeFields(props: {
  role: string;
  setRole: (r: string) => void;
  all: boolean;
  setAll: (a: boolean) => void;
  brands: string[];
  setBrands: (b: string[]) => void;
  known: Brand[];
}) {
  const { me } = useSession();
  const globalOk = mayBeGlobal(props.role) && me.staff.all_brands;
  return (
    <>
      <label>
        Role
        <select
          name="role"
          value={props.role}
          onChange={(e) => {
            const r = e.currentTarget.value;
            props.setRole(r);
            if (!mayBeGlobal(r)) props.setAll(false);
          }}
        >
          {ROLES.map((r) => (
            <option value={r}>{r}</option>
          ))}
        </select>
      </label>
      <fieldset class="m-brands">
        <legend>Brand scope</legend>
        {globalOk && (
          <label class="m-inline">
            <input type="checkbox" name="all_brands" checked={props.all} onChange={(e) => props.setAll(e.currentTarget.checked)} />
            All brands (present and future)
          </label>
        )}
        {!mayBeGlobal(props.role) && <p class="m-muted">A {props.role} member works on named brands only.</p>}
        {!props.all &&
          props.known.map((b) => (
            <label class="m-inline">
              <input
                type="checkbox"
                name="brand"
                value={b.code}
                checked={props.brands.includes(b.code)}
                onChange={(e) =>
                  props.setBrands(
                    e.currentTarget.checked ? [...props.brands, b.code] : props.brands.filter((c) => c !== b.code),
                  )
                }
              />
              {b.name || b.code} <code>{b.code}</code>
            </label>
          ))}
      </fieldset>
    </>
  );
}

function scopeBody(all: boolean, brands: string[]) {
  return all ? { all_brands: true } : { all_brands: false, brands };
}

/* A one-time password (a new member's, or after a TOTP reset), shown once with the
 * steps of the first login; the server keeps only its hash. */
function OneTimePasswordDialog(props: {
  label: string;
  testid: string;
  title: string;
  email: string;
  password: string;
  children?: ComponentChildren;
  onClose: () => void;
}) {
  return (
    <div class="modal-backdrop" role="dialog" aria-modal="true" aria-label={props.label}>
      <div class="modal" data-testid={props.testid}>
        <h2>{props.title}</h2>
        {props.children}
        <p>
          One-time password — shown <strong>only now</strong>; give it to {props.email} by a safe channel:
        </p>
        <p class="m-otp">
          <code data-testid="one-time-password">{props.password}</code> <CopyButton text={props.password} />
        </p>
        <ol class="m-steps">
          <li>Open this back office and log in with the e-mail and the one-time password.</li>
          <li>Choose a new password.</li>
          <li>Scan the QR code with an authenticator app (or type the secret shown under it).</li>
          <li>Enter the 6-digit code it shows, then log in again with the new password and a fresh code.</li>
        </ol>
        <div class="actions">
          <button type="button" class="primary" onClick={props.onClose}>
            Done (forget the password)
          </button>
        </div>
      </div>
    </div>
  );
}

function CreateDialog({ known, onClose, onCreated }: { known: Brand[]; onClose: () => void; onCreated: () => void }) {
  const [email, setEmail] = useState('');
  const [role, setRole] = useState('support');
  const [all, setAll] = useState(false);
  const [brands, setBrands] = useState<string[]>(known.length === 1 ? [known[0].code] : []);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const [created, setCreated] = useState<{ staff: StaffMember; one_time_password: string } | null>(null);

  async function submit(e: Event) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const r = await post<{ staff: StaffMember; one_time_password: string }>('/v1/admin/staff', {
        email: email.trim(),
        role,
        ...scopeBody(all, brands),
      });
      setCreated(r);
      onCreated();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  }

  if (created)
    return (
      <OneTimePasswordDialog
        label="Staff member created"
        testid="created"
        title={`${created.staff.email} created`}
        email={created.staff.email}
        password={created.one_time_password}
        onClose={onClose}
      />
    );

  return (
    <div class="modal-backdrop" role="dialog" aria-modal="true" aria-label="New staff member">
      <form class="modal" onSubmit={submit}>
        <h2>New staff member</h2>
        <label>
          E-mail
          <input name="email" type="email" required value={email} onInput={(e) => setEmail(e.currentTarget.value)} />
        </label>
        <ScopeFields role={role} setRole={setRole} all={all} setAll={setAll} brands={brands} setBrands={setBrands} known={known} />
        <ErrorBox error={error} />
        <div class="actions">
          <button type="button" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" class="primary" disabled={busy || !email.trim()}>
            Create
          </button>
        </div>
      </form>
    </div>
  );
}

function EditDialog({ s, known, onClose, onSaved }: { s: StaffMember; known: Brand[]; onClose: () => void; onSaved: (s: StaffMember) => void }) {
  const [role, setRole] = useState(s.role);
  const [all, setAll] = useState(s.all_brands);
  const [brands, setBrands] = useState<string[]>(s.brands);
  const [active, setActive] = useState(s.active);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  async function submit(e: Event) {
    e.preventDefault();
    const body: Record<string, unknown> = {};
    if (role !== s.role) body.role = role;
    const scopeChanged = all !== s.all_brands || (!all && [...brands].sort().join() !== [...s.brands].sort().join());
    if (scopeChanged) Object.assign(body, scopeBody(all, brands));
    if (active !== s.active) body.active = active;
    if (Object.keys(body).length === 0) return onClose();
    setBusy(true);
    setError(null);
    try {
      const r = await patch<{ staff: StaffMember }>(`/v1/admin/staff/${encodeURIComponent(s.id)}`, body);
      onSaved(r.staff);
      onClose();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  }

  return (
    <div class="modal-backdrop" role="dialog" aria-modal="true" aria-label={`Edit ${s.email}`}>
      <form class="modal" onSubmit={submit}>
        <h2>{s.email}</h2>
        <ScopeFields role={role} setRole={setRole} all={all} setAll={setAll} brands={brands} setBrands={setBrands} known={known} />
        <label class="m-inline">
          <input type="checkbox" name="active" checked={active} onChange={(e) => setActive(e.currentTarget.checked)} />
          Active (unticked: cannot log in; their sessions end)
        </label>
        <ErrorBox error={error} />
        <div class="actions">
          <button type="button" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" class="primary" disabled={busy}>
            Save
          </button>
        </div>
      </form>
    </div>
  );
}

interface AddressLock {
  address: string | null;
  locked_until: string;
}

/** A member's login locks (GET …/staff/{id}: the account's and per address) and
 * the button that ends them (POST …/unlock, with a reason). */
function UnlockDialog(props: { s: StaffMember; onClose: () => void; onDone: (s: StaffMember, note: string) => void }) {
  const [locks, setLocks] = useState<AddressLock[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  const path = `/v1/admin/staff/${encodeURIComponent(props.s.id)}`;
  useEffect(() => {
    get<{ staff: StaffMember & { address_locks: AddressLock[] } }>(path).then(
      (r) => setLocks(r.staff.address_locks),
      setError,
    );
  }, [path]);
  const account = props.s.locked_until && Date.parse(props.s.locked_until) > Date.now();
  return (
    <ReasonDialog
      title={`Login locks of ${props.s.email}`}
      confirm="Unlock"
      onConfirm={async (reason) => {
        const r = await post<{ account_lock_cleared: boolean; address_locks_cleared: number }>(`${path}/unlock`, {
          reason,
        });
        const m = await get<{ staff: StaffMember }>(path);
        props.onDone(
          m.staff,
          `Login locks cleared (${r.address_locks_cleared} address${r.address_locks_cleared === 1 ? '' : 'es'}` +
            `${r.account_lock_cleared ? ', and the account lock' : ''}).`,
        );
      }}
      onClose={props.onClose}
    >
      <ErrorBox error={error} />
      {account && (
        <p>
          The account is locked until <Time at={props.s.locked_until} />.
        </p>
      )}
      {locks && locks.length > 0 && (
        <ul data-testid="staff-address-locks">
          {locks.map((l) => (
            <li key={`${l.address ?? ''}-${l.locked_until}`}>
              Locked from {l.address ?? 'an unknown address'} until <Time at={l.locked_until} />
            </li>
          ))}
        </ul>
      )}
      {locks && locks.length === 0 && !account && <p>No login lock is in force.</p>}
      <p>
        Unlock ends the account's lock and every address's now, and starts the escalation of their locks over. The
        reason is written to the audit log.
      </p>
    </ReasonDialog>
  );
}

function Row({ s: initial, known }: { s: StaffMember; known: Brand[] }) {
  const { me, can } = useSession();
  const [s, setS] = useState(initial);
  const [dialog, setDialog] = useState<'edit' | 'totp' | 'unlock' | null>(null);
  const [note, setNote] = useState('');
  const [otp, setOtp] = useState<string | null>(null);
  const self = s.id === me.staff.id;
  return (
    <tr data-testid="staff-row" data-email={s.email} data-id={s.id} class={s.active ? '' : 'm-off'}>
      <td>
        {s.email}
        {self && <span class="m-muted"> (you)</span>}
      </td>
      <td>{s.role}</td>
      <td>{s.all_brands ? <em>all brands</em> : s.brands.join(', ') || '—'}</td>
      <td data-testid="staff-status">
        {s.active ? 'active' : 'disabled'}
        {s.locked_until && Date.parse(s.locked_until) > Date.now() && (
          <div class="m-muted">
            locked until <Time at={s.locked_until} />
          </div>
        )}
        {s.must_change_password && <div class="m-muted">first login pending</div>}
      </td>
      <td data-testid="totp">{s.totp_enrolled ? 'enrolled' : 'not enrolled'}</td>
      <td>
        <Time at={s.last_login_at} />
      </td>
      <td>
        {can('staff.manage') && !self && (
          <div class="m-actions">
            <button type="button" class="m-small" data-testid="edit-staff" onClick={() => setDialog('edit')}>
              Change
            </button>
            {s.totp_enrolled && (
              <button type="button" class="m-small" data-testid="reset-totp" onClick={() => setDialog('totp')}>
                Reset TOTP
              </button>
            )}
            <button type="button" class="m-small" data-testid="unlock-staff" onClick={() => setDialog('unlock')}>
              Login locks
            </button>
          </div>
        )}
        {note && (
          <p class="m-ok" role="status">
            {note}
          </p>
        )}
        {dialog === 'edit' && <EditDialog s={s} known={known} onClose={() => setDialog(null)} onSaved={setS} />}
        {dialog === 'totp' && (
          <ReasonDialog
            title={`Reset the TOTP of ${s.email}`}
            confirm="Reset TOTP"
            onConfirm={async (reason) => {
              const r = await post<{ staff: StaffMember; one_time_password: string }>(
                `/v1/admin/staff/${encodeURIComponent(s.id)}/totp/reset`,
                { reason },
              );
              setS(r.staff);
              setOtp(r.one_time_password);
              setNote('TOTP reset: their password and sessions ended; they log in with the one-time password.');
            }}
            onClose={() => setDialog(null)}
          >
            <p>
              Their authenticator <strong>and their password</strong> stop working and their sessions end: you get a
              one-time password for them, and their next login asks them to choose a new password and enrol a new
              authenticator (QR code).
            </p>
          </ReasonDialog>
        )}
        {dialog === 'unlock' && (
          <UnlockDialog
            s={s}
            onClose={() => setDialog(null)}
            onDone={(m, note) => {
              setS(m);
              setNote(note);
            }}
          />
        )}
        {otp && (
          <OneTimePasswordDialog
            label="TOTP reset"
            testid="totp-reset-done"
            title={`TOTP of ${s.email} reset`}
            email={s.email}
            password={otp}
            onClose={() => setOtp(null)}
          >
            <p>Their old password no longer works.</p>
          </OneTimePasswordDialog>
        )}
      </td>
    </tr>
  );
}

export function Staff() {
  const { can } = useSession();
  const brands = useBrands();
  const [creating, setCreating] = useState(false);
  const list = usePaged<StaffMember>('/v1/admin/staff', 'staff', {}, 50);
  const known = brands.data ?? [];
  return (
    <div class="m-page">
      <h1>Staff and roles</h1>
      {can('staff.manage') && (
        <p>
          <button type="button" class="primary" data-testid="new-staff" onClick={() => setCreating(true)}>
            New staff member
          </button>
        </p>
      )}
      <ErrorBox error={list.error ?? brands.error} />
      <table class="table m-table" data-testid="staff">
        <thead>
          <tr>
            <th>E-mail</th>
            <th>Role</th>
            <th>Brands</th>
            <th>Status</th>
            <th>TOTP</th>
            <th>Last login</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {list.items.map((s) => (
            <Row key={s.id} s={s} known={known} />
          ))}
        </tbody>
      </table>
      {!list.loading && !list.error && list.items.length === 0 && <p class="m-empty">No staff in your scope.</p>}
      <Pager list={list} />
      {creating && <CreateDialog known={known} onClose={() => setCreating(false)} onCreated={() => list.reload()} />}
    </div>
  );
}
