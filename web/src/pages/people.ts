/* people.ts — players, player page, transactions explorer, audit log (web-people); see index.ts. */
import type { PageDef } from './index';

export const peoplePages: PageDef[] = [];
