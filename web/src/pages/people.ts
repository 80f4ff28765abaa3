/* people.ts — players, player page, transactions explorer, audit log (web-people); see index.ts. */
import type { PageDef } from './index';
import { Players } from '../people/Players';
import { PlayerPage } from '../people/PlayerPage';
import { Transactions } from '../people/Transactions';
import { Audit } from '../people/Audit';

export const peoplePages: PageDef[] = [
  { path: '/players', title: 'Players', nav: true, order: 10, perm: 'players.read', component: Players },
  { path: '/players/:id', title: 'Player', perm: 'players.read', component: PlayerPage },
  { path: '/transactions', title: 'Transactions', nav: true, order: 20, perm: 'finance.read', component: Transactions },
  { path: '/audit', title: 'Audit log', nav: true, order: 60, perm: 'audit.read', component: Audit },
];
