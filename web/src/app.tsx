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

function Shell({ session }: { session: SessionValue }) {
  const { path } = useLocation();
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
          <span data-testid="whoami">{session.me.staff.email}</span> ({session.me.staff.role})
          <button onClick={() => session.logout()}>Log out</button>
        </div>
      </nav>
      <main class="main">
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
