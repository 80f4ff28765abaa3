/*
 * app.tsx — the shell: restores or asks for a session, then shows the
 * navigation (only the pages the staff member may use) and the routed page.
 * A setup session (first login: one-time password, no TOTP yet) sees only the
 * enrolment steps.
 */
import { useEffect, useMemo, useState } from 'preact/hooks';
import { ApiError, currentTokens, get, hasStoredSession, onSessionChange, post, refresh, setTokens } from './lib/api';
import { match, navigate, onLinkClick, useLocation } from './lib/router';
import { type Me, SessionContext, type SessionValue } from './lib/session';
import { setTimeZone, timeZone } from './lib/format';
import { pages } from './pages';
import { Login } from './pages/Login';

export function App() {
  const [me, setMe] = useState<Me | null>(null);
  const [loading, setLoading] = useState(true);
  const [, bump] = useState(0);

  async function loadMe() {
    const t = currentTokens();
    if (!t || t.scope !== 'full') {
      setMe(null);
      return;
    }
    try {
      setMe(await get<Me>('/v1/admin/me'));
    } catch (e) {
      if (e instanceof ApiError && e.status === 401) setTokens(null);
      setMe(null);
    }
  }

  useEffect(() => {
    const off = onSessionChange(() => bump((n) => n + 1));
    (async () => {
      if (hasStoredSession()) await refresh();
      await loadMe();
      setLoading(false);
    })();
    return off;
  }, []);

  const session = useMemo<SessionValue | null>(
    () =>
      me && {
        me,
        can: (perm: string) => me.permissions.includes(perm),
        logout: async () => {
          try {
            await post('/v1/admin/logout');
          } finally {
            setTokens(null);
            setMe(null);
            navigate('/', true);
          }
        },
      },
    [me],
  );

  if (loading) return <p class="loading">Loading…</p>;
  if (!session) return <Login onLoggedIn={loadMe} />;
  return (
    <SessionContext.Provider value={session}>
      <Shell session={session} />
    </SessionContext.Provider>
  );
}

/** The zones offered in the header: the browser's list, with UTC and the current one. */
function zones(): string[] {
  let list: string[] = [];
  try {
    list = (Intl as unknown as { supportedValuesOf?: (k: string) => string[] }).supportedValuesOf?.('timeZone') ?? [];
  } catch {
    list = [];
  }
  const set = new Set(['UTC', timeZone(), ...list]);
  return [...set].sort((a, b) => (a === 'UTC' ? -1 : b === 'UTC' ? 1 : a.localeCompare(b)));
}

/** The staff member's time zone (lib/format.ts): every time on every page is shown in it. */
function TimeZoneSelect({ onChange }: { onChange: () => void }) {
  const list = useMemo(zones, []);
  return (
    <label class="tz" title="Times are shown in this zone">
      <span class="sr-only">Time zone</span>
      <select data-testid="tz-select" value={timeZone()}
        onChange={(e) => {
          setTimeZone(e.currentTarget.value);
          onChange();
        }}>
        {list.map((z) => (
          <option value={z}>{z}</option>
        ))}
      </select>
    </label>
  );
}

function Shell({ session }: { session: SessionValue }) {
  const { path } = useLocation();
  const [tzVersion, setTzVersion] = useState(0);
  const allowed = pages.filter((p) => !p.perm || session.can(p.perm));
  let routed: { page: (typeof pages)[number]; params: Record<string, string> } | null = null;
  for (const p of allowed) {
    const params = match(p.path, path);
    if (params) {
      routed = { page: p, params };
      break;
    }
  }
  const Page = routed?.page.component;
  return (
    <div class="shell">
      <nav class="nav">
        <div class="brand">pitboss</div>
        {allowed
          .filter((p) => p.nav)
          .map((p) => (
            <a href={p.path} class={match(p.path, path) ? 'active' : ''} onClick={(e) => onLinkClick(e, p.path)}>
              {p.title}
            </a>
          ))}
        <div class="who">
          <TimeZoneSelect onChange={() => setTzVersion((v) => v + 1)} />
          <span data-testid="whoami">{session.me.staff.email}</span>
          <span class="muted"> ({session.me.staff.role})</span>
          <button data-testid="logout" onClick={() => session.logout()}>
            Log out
          </button>
        </div>
      </nav>
      <main class="main" key={`${path}|${tzVersion}`}>
        {Page ? <Page params={routed!.params} /> : <NotFound />}
      </main>
    </div>
  );
}

function NotFound() {
  return (
    <div>
      <h1>Not here</h1>
      <p>This page does not exist or your role does not include it.</p>
    </div>
  );
}
