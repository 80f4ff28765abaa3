/*
 * Login.tsx — password + TOTP login, and the first-login walk of a setup session.
 *
 * POST /v1/admin/login answers a `full` session (done: the shell loads /me) or a
 * `setup` session (a new member, or one whose TOTP was reset): then, with that
 * session's token (kept here, never stored):
 *   1. must_change_password → a new password (POST /v1/admin/password);
 *   2. totp_enrollment_required → POST /v1/admin/totp/enroll: the otpauth URI as
 *      a QR code (npm qrcode, drawn into a data: URL, allowed by the CSP) and the
 *      secret as text, then a code to confirm it (POST /v1/admin/totp/confirm);
 *   3. back to the login form ("log in again with your new password and a code").
 * Errors are shown as the server said them: its code and message
 * (CREDENTIALS_INVALID, TOTP_REQUIRED, TOTP_INVALID, PASSWORD_WEAK, …), with the
 * wait for ACCOUNT_LOCKED / RATE_LIMITED from Retry-After.
 */
import QRCode from 'qrcode';
import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiError, type Tokens, setTokens } from '../lib/api';

type Step = 'login' | 'password' | 'enrol';

async function call<T>(path: string, body: unknown, token?: string): Promise<T> {
  const headers: Record<string, string> = { 'Content-Type': 'application/json' };
  if (token) headers.Authorization = `Bearer ${token}`;
  const res = await fetch(path, { method: 'POST', headers, body: JSON.stringify(body ?? {}) });
  const text = await res.text();
  let parsed: any = null;
  try {
    parsed = text ? JSON.parse(text) : null;
  } catch {
    parsed = null;
  }
  if (!res.ok) {
    const code = parsed?.error?.code ?? `HTTP_${res.status}`;
    let message = parsed?.error?.message ?? res.statusText;
    const wait = res.headers.get('Retry-After');
    if (wait && (res.status === 423 || res.status === 429)) message += ` (try again in ${waitText(Number(wait))})`;
    throw new ApiError(res.status, code, message, parsed);
  }
  return parsed as T;
}

function waitText(s: number): string {
  if (!Number.isFinite(s) || s <= 0) return 'a moment';
  if (s < 90) return `${s} s`;
  return `${Math.ceil(s / 60)} min`;
}

function errText(e: unknown): string {
  if (e instanceof ApiError) return `${e.code}: ${e.message}`;
  return e instanceof Error ? e.message : String(e);
}

export function Login({ onLoggedIn }: { onLoggedIn: () => Promise<void> }) {
  const [step, setStep] = useState<Step>('login');
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [totp, setTotp] = useState('');
  const [error, setError] = useState('');
  const [notice, setNotice] = useState('');
  const [busy, setBusy] = useState(false);
  const [setup, setSetup] = useState<Tokens | null>(null);

  async function submit(e: Event) {
    e.preventDefault();
    setError('');
    setNotice('');
    setBusy(true);
    try {
      const body: Record<string, string> = { email: email.trim(), password };
      if (totp.trim()) body.totp = totp.trim();
      const t = await call<Tokens>('/v1/admin/login', body);
      setTotp('');
      if (t.scope === 'full') {
        setTokens(t);
        await onLoggedIn();
        return;
      }
      setSetup(t);
      if (t.must_change_password) setStep('password');
      else if (t.totp_enrollment_required) setStep('enrol');
      else setError('This session cannot be used yet: ask an administrator.');
    } catch (err) {
      setError(errText(err));
    } finally {
      setBusy(false);
    }
  }

  function backToLogin(message: string) {
    setSetup(null);
    setPassword('');
    setTotp('');
    setStep('login');
    setNotice(message);
  }

  if (step === 'password' && setup)
    return (
      <NewPassword
        token={setup.access_token}
        current={password}
        onDone={(pw) => {
          setPassword(pw);
          if (setup.totp_enrollment_required) setStep('enrol');
          else backToLogin('Password changed. Log in with your new password and a code.');
        }}
        onCancel={() => backToLogin('')}
      />
    );
  if (step === 'enrol' && setup)
    return (
      <Enrol
        token={setup.access_token}
        email={email}
        onDone={() => backToLogin('Two-factor authentication is on. Log in again with your password and a fresh code.')}
        onCancel={() => backToLogin('')}
      />
    );

  return (
    <form class="login card" onSubmit={submit}>
      <h1>pitboss back office</h1>
      {notice && (
        <p class="notice" role="status" data-testid="login-notice">
          {notice}
        </p>
      )}
      <label>
        Email
        <input name="email" type="email" autocomplete="username" required value={email}
          onInput={(e) => setEmail(e.currentTarget.value)} />
      </label>
      <label>
        Password
        <input name="password" type="password" autocomplete="current-password" required value={password}
          onInput={(e) => setPassword(e.currentTarget.value)} />
      </label>
      <label>
        Authenticator code <span class="muted">(leave empty at your first login)</span>
        <input name="totp" inputMode="numeric" autocomplete="one-time-code" pattern="[0-9]{6}" maxLength={6}
          value={totp} onInput={(e) => setTotp(e.currentTarget.value)} />
      </label>
      {error && (
        <p class="error" role="alert" data-testid="login-error">
          {error}
        </p>
      )}
      <button type="submit" class="primary" disabled={busy}>
        {busy ? 'Logging in…' : 'Log in'}
      </button>
    </form>
  );
}

function NewPassword({ token, current, onDone, onCancel }: {
  token: string;
  current: string;
  onDone: (pw: string) => void;
  onCancel: () => void;
}) {
  const [pw, setPw] = useState('');
  const [again, setAgain] = useState('');
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);

  async function submit(e: Event) {
    e.preventDefault();
    setError('');
    if (pw !== again) {
      setError('The two passwords differ.');
      return;
    }
    setBusy(true);
    try {
      await call('/v1/admin/password', { current, new: pw }, token);
      onDone(pw);
    } catch (err) {
      setError(errText(err));
    } finally {
      setBusy(false);
    }
  }

  return (
    <form class="login card" onSubmit={submit} data-testid="setup-password">
      <h1>Choose your password</h1>
      <p class="muted">Step 1 of 2: replace the one-time password with your own.</p>
      <label>
        New password
        <input name="new-password" type="password" autocomplete="new-password" required value={pw}
          onInput={(e) => setPw(e.currentTarget.value)} />
      </label>
      <label>
        New password again
        <input name="new-password-again" type="password" autocomplete="new-password" required value={again}
          onInput={(e) => setAgain(e.currentTarget.value)} />
      </label>
      {error && (
        <p class="error" role="alert" data-testid="setup-error">
          {error}
        </p>
      )}
      <div class="actions">
        <button type="button" onClick={onCancel}>
          Cancel
        </button>
        <button type="submit" class="primary" disabled={busy}>
          Set password
        </button>
      </div>
    </form>
  );
}

function Enrol({ token, email, onDone, onCancel }: {
  token: string;
  email: string;
  onDone: () => void;
  onCancel: () => void;
}) {
  const [secret, setSecret] = useState('');
  const [qr, setQr] = useState('');
  const [code, setCode] = useState('');
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);
  const started = useRef(false);

  useEffect(() => {
    if (started.current) return;
    started.current = true;
    (async () => {
      try {
        const e = await call<{ otpauth_uri: string; secret: string }>('/v1/admin/totp/enroll', {}, token);
        setSecret(e.secret);
        setQr(await QRCode.toDataURL(e.otpauth_uri, { margin: 1, width: 220 }));
      } catch (err) {
        setError(errText(err));
      }
    })();
  }, [token]);

  async function submit(e: Event) {
    e.preventDefault();
    setError('');
    setBusy(true);
    try {
      await call('/v1/admin/totp/confirm', { code: code.trim() }, token);
      onDone();
    } catch (err) {
      setError(errText(err));
    } finally {
      setBusy(false);
    }
  }

  return (
    <form class="login card enrol" onSubmit={submit} data-testid="setup-totp">
      <h1>Two-factor authentication</h1>
      <p class="muted">
        Step 2 of 2: scan the code with an authenticator app (or type the secret), then enter the 6-digit code it
        shows{email ? ` for ${email}` : ''}.
      </p>
      {qr ? <img class="qr" src={qr} alt="QR code of the TOTP secret" data-testid="totp-qr" width={220} height={220} />
        : !error && <p class="loading">Preparing…</p>}
      {secret && (
        <p>
          Secret: <code class="secret" data-testid="totp-secret">{secret}</code>
        </p>
      )}
      <label>
        Code
        <input name="code" inputMode="numeric" autocomplete="one-time-code" pattern="[0-9]{6}" maxLength={6} required
          value={code} onInput={(e) => setCode(e.currentTarget.value)} />
      </label>
      {error && (
        <p class="error" role="alert" data-testid="setup-error">
          {error}
        </p>
      )}
      <div class="actions">
        <button type="button" onClick={onCancel}>
          Cancel
        </button>
        <button type="submit" class="primary" disabled={busy || !secret}>
          Confirm
        </button>
      </div>
    </form>
  );
}
