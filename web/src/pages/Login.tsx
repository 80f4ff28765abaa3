/* Login.tsx — password + TOTP login (first-login enrolment lives here too). */
import { useState } from 'preact/hooks';
import { ApiError, type Tokens, setTokens } from '../lib/api';

export function Login({ onLoggedIn }: { onLoggedIn: () => Promise<void> }) {
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [totp, setTotp] = useState('');
  const [error, setError] = useState('');

  async function submit(e: Event) {
    e.preventDefault();
    setError('');
    const res = await fetch('/v1/admin/login', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ email, password, ...(totp ? { totp } : {}) }),
    });
    const body = await res.json().catch(() => ({}));
    if (!res.ok) {
      const err = new ApiError(res.status, body?.error?.code ?? `HTTP_${res.status}`, body?.error?.message ?? '');
      setError(`${err.code}: ${err.message}`);
      return;
    }
    setTokens(body as Tokens);
    await onLoggedIn();
  }

  return (
    <form class="login" onSubmit={submit}>
      <h1>pitboss back office</h1>
      <label>Email <input name="email" type="email" value={email} onInput={(e) => setEmail(e.currentTarget.value)} /></label>
      <label>Password <input name="password" type="password" value={password} onInput={(e) => setPassword(e.currentTarget.value)} /></label>
      <label>Code <input name="totp" inputMode="numeric" autocomplete="one-time-code" value={totp} onInput={(e) => setTotp(e.currentTarget.value)} /></label>
      {error && <p class="error" role="alert">{error}</p>}
      <button type="submit">Log in</button>
    </form>
  );
}
