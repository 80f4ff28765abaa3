/* shell.ts — the shell's pages (dashboard); see index.ts. */
import type { PageDef } from './index';
import { Dashboard } from './Dashboard';

export const shellPages: PageDef[] = [
  { path: '/', title: 'Dashboard', nav: true, order: 0, perm: 'reports.read', component: Dashboard },
];
