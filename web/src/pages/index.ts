/*
 * index.ts — every page of the back office, one registry: path pattern, title,
 * whether it is in the navigation, and the permission it needs (a page whose
 * permission the staff member lacks is neither listed nor routable; the API
 * refuses its calls anyway). Each part of the UI keeps its own list.
 */
import type { ComponentType } from 'preact';
import { shellPages } from './shell';
import { peoplePages } from './people';
import { moneyPages } from './money';
import { brandsPages } from './brands';

export interface PageDef {
  path: string; // "/players/:id"
  title: string;
  nav?: boolean; // shown in the navigation
  order?: number; // place in the navigation: dashboard 0, players 10, transactions 20,
  //               withdrawals 30, adjustments 32, games 40, staff 50, audit 60
  perm?: string; // a PB_PERMISSIONS name the page needs
  component: ComponentType<{ params: Record<string, string> }>;
}

export const pages: PageDef[] = [...shellPages, ...peoplePages, ...moneyPages, ...brandsPages].sort(
  (a, b) => (a.order ?? 100) - (b.order ?? 100),
);
