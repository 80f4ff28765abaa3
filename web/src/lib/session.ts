/*
 * session.ts — who is logged in: GET /v1/admin/me (staff, session, permissions),
 * loaded after login and after a reload with a stored refresh token.
 * can("finance.withdrawals.approve") decides what a page offers; the API refuses
 * anything else anyway (the UI never relies on hiding).
 */
import { createContext } from 'preact';
import { useContext } from 'preact/hooks';

export interface Staff {
  id: string;
  email: string;
  role: string;
  all_brands: boolean;
  brands: string[];
  active: boolean;
  [k: string]: unknown;
}

export interface Me {
  staff: Staff;
  session: { id: string; scope: 'full' | 'setup'; access_expires_at: string };
  permissions: string[];
}

export interface SessionValue {
  me: Me;
  can: (perm: string) => boolean;
  logout: () => Promise<void>;
}

export const SessionContext = createContext<SessionValue | null>(null);

export function useSession(): SessionValue {
  const s = useContext(SessionContext);
  if (!s) throw new Error('useSession outside a logged-in session');
  return s;
}
