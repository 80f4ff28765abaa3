/* ops.ts — the operations pages (players, transactions, withdrawals, games, staff, audit); see index.ts. */
import type { PageDef } from './index';

export const opsPages: PageDef[] = [];
