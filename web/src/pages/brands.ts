/* brands.ts — brands and their settings (web-brands); see index.ts. */
import type { PageDef } from './index';
import { Brands } from '../brands/Brands';
import { BrandPage } from '../brands/BrandPage';

export const brandsPages: PageDef[] = [
  { path: '/brands', title: 'Brands', nav: true, order: 55, perm: 'brands.read', component: Brands },
  { path: '/brands/:code', title: 'Brand', order: 56, perm: 'brands.read', component: BrandPage },
];
