/* money.ts — withdrawals, games and providers, staff and roles (web-money); see index.ts. */
import type { PageDef } from './index';

export const moneyPages: PageDef[] = [];
