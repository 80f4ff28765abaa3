/*
 * index.ts — every page of the back office, one registry: path pattern, title,
 * whether it is in the navigation, and the permission it needs (a page whose
 * permission the staff member lacks is neither listed nor routable; the API
 * refuses its calls anyway). Each part of the UI keeps its own list.
 */
import type { ComponentType } from 'preact';
import { shellPages } from './shell';
import { opsPages } from './ops';

export interface PageDef {
  path: string; // "/players/:id"
  title: string;
  nav?: boolean; // shown in the navigation
  perm?: string; // a PB_PERMISSIONS name the page needs
  component: ComponentType<{ params: Record<string, string> }>;
}

export const pages: PageDef[] = [...shellPages, ...opsPages];
