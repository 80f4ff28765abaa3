/* money.ts — withdrawals, adjustment requests (4-eyes), payments, PSP reconciliations, unclaimed funds, games and providers, staff and roles (web-money); see index.ts. */
import type { PageDef } from './index';
import { WithdrawalDetail, Withdrawals } from '../money/Withdrawals';
import { AdjustmentDetail, Adjustments } from '../money/Adjustments';
import { Games } from '../money/Games';
import { Staff } from '../money/Staff';
import { Unclaimed } from '../money/Unclaimed';
import { PaymentDetail, Payments } from '../money/Payments';
import { ReconciliationDetail, Reconciliations } from '../money/Reconciliations';

export const moneyPages: PageDef[] = [
  { path: '/withdrawals', title: 'Withdrawals', nav: true, order: 30, perm: 'finance.read', component: Withdrawals },
  { path: '/withdrawals/:id', title: 'Withdrawal', order: 31, perm: 'finance.read', component: WithdrawalDetail },
  { path: '/adjustments', title: 'Adjustments', nav: true, order: 32, perm: 'finance.read', component: Adjustments },
  { path: '/adjustments/:id', title: 'Adjustment', order: 33, perm: 'finance.read', component: AdjustmentDetail },
  { path: '/payments', title: 'Payments', nav: true, order: 29, perm: 'finance.read', component: Payments },
  { path: '/payments/:id', title: 'Payment', order: 29, perm: 'finance.read', component: PaymentDetail },
  { path: '/reconciliations', title: 'Reconciliations', nav: true, order: 29.5, perm: 'finance.read', component: Reconciliations },
  { path: '/reconciliations/:id', title: 'Reconciliation', order: 29.5, perm: 'finance.read', component: ReconciliationDetail },
  { path: '/unclaimed-funds', title: 'Unclaimed funds', nav: true, order: 35, perm: 'finance.read', component: Unclaimed },
  { path: '/games', title: 'Games', nav: true, order: 40, perm: 'games.read', component: Games },
  { path: '/staff', title: 'Staff', nav: true, order: 50, perm: 'staff.read', component: Staff },
];
