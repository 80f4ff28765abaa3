/*
 * Brands.tsx — /brands (brands.read): the brands of the caller's scope
 * (GET /v1/admin/brands, cursor pages), each opening to its settings page
 * (BrandPage.tsx). A member with brands.manage who sees every brand creates one
 * here (POST /v1/admin/brands: code, name, default currency, currencies,
 * jurisdiction; audited as brand.create) and lands on its page to set its
 * settings; the server refuses a scoped member (403 BRAND_FORBIDDEN), so the
 * button is offered only to the others.
 */
import { useState } from 'preact/hooks';
import { ApiError, post } from '../lib/api';
import { navigate } from '../lib/router';
import { useSession } from '../lib/session';
import { ErrorBox, Pager, useDialogSubmit, usePaged } from '../components/ui';
import { Link, Status } from '../money/common';
import { type BrandFull, codes } from './settings';
import './brands.css';

export function Brands() {
  const { me, can } = useSession();
  const list = usePaged<BrandFull>('/v1/admin/brands', 'brands', {});
  const [creating, setCreating] = useState(false);
  const mayCreate = can('brands.manage') && me.staff.all_brands;
  return (
    <div class="m-page">
      <div class="page-head">
        <h1>Brands</h1>
        {mayCreate && (
          <button type="button" class="primary" data-testid="brand-new" onClick={() => setCreating(true)}>
            New brand
          </button>
        )}
      </div>
      <p class="m-muted">
        The casinos of your scope. Open one for its settings: 4-eyes thresholds, deposit limits, expiries, funding
        policy.
      </p>
      <ErrorBox error={list.error} />
      <table class="table m-table" data-testid="brands">
        <thead>
          <tr>
            <th>Code</th>
            <th>Name</th>
            <th>Default currency</th>
            <th>Currencies</th>
            <th>Jurisdiction</th>
            <th>Status</th>
          </tr>
        </thead>
        <tbody>
          {list.items.map((b) => (
            <tr data-testid="brand-row" data-code={b.code}>
              <td>
                <Link to={`/brands/${encodeURIComponent(b.code)}`} testid="brand-link">
                  <code>{b.code}</code>
                </Link>
              </td>
              <td>{b.name}</td>
              <td>{b.default_currency}</td>
              <td data-testid="brand-currencies">{b.currencies.join(', ')}</td>
              <td>{b.jurisdiction}</td>
              <td>
                <Status value={b.status} />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {!list.loading && !list.error && list.items.length === 0 && <p class="m-empty">No brands in your scope.</p>}
      <Pager list={list} />
      {creating && <CreateBrandDialog onClose={() => setCreating(false)} />}
    </div>
  );
}


function CreateBrandDialog({ onClose }: { onClose: () => void }) {
  const [code, setCode] = useState('');
  const [name, setName] = useState('');
  const [currency, setCurrency] = useState('EUR');
  const [currencies, setCurrencies] = useState('');
  const [jurisdiction, setJurisdiction] = useState('');
  const { error, busy, submit } = useDialogSubmit(
    async () => {
      const def = currency.trim().toUpperCase();
      const list = codes(currencies);
      const r = await post<{ brand: BrandFull }>('/v1/admin/brands', {
        code: code.trim(),
        name: name.trim(),
        default_currency: def,
        currencies: list.includes(def) ? list : [def, ...list],
        jurisdiction: jurisdiction.trim().toUpperCase(),
      });
      navigate(`/brands/${encodeURIComponent(r.brand.code)}`);
    },
    onClose,
    true,
  );
  const field = error instanceof ApiError ? (error.body as { error?: { field?: string } })?.error?.field : undefined;
  const mark = (f: string) => (field === f ? { 'aria-invalid': true } : {});
  return (
    <div class="modal-backdrop" role="dialog" aria-modal="true" aria-label="New brand">
      <form class="modal" data-testid="brand-create" onSubmit={submit}>
        <h2>New brand</h2>
        <label>
          Code (a-z, 0-9 and "-"; never changes)
          <input name="code" required value={code} {...mark('code')} onInput={(e) => setCode(e.currentTarget.value)} />
        </label>
        <label>
          Name
          <input name="name" required value={name} {...mark('name')} onInput={(e) => setName(e.currentTarget.value)} />
        </label>
        <label>
          Default currency
          <input name="default_currency" required value={currency} {...mark('default_currency')}
            onInput={(e) => setCurrency(e.currentTarget.value)} />
        </label>
        <label>
          Other accepted currencies (e.g. "USD, GBP")
          <input name="currencies" value={currencies} {...mark('currencies')}
            onInput={(e) => setCurrencies(e.currentTarget.value)} />
        </label>
        <label>
          Jurisdiction (licence: MT, GB, CA-ON)
          <input name="jurisdiction" required value={jurisdiction} {...mark('jurisdiction')}
            onInput={(e) => setJurisdiction(e.currentTarget.value)} />
        </label>
        <p class="m-muted">Its settings (thresholds, limits, expiries) are set on its page once created.</p>
        <ErrorBox error={error} />
        <div class="actions">
          <button type="button" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" class="primary" disabled={busy || !code.trim() || !name.trim() || !jurisdiction.trim()}>
            Create brand
          </button>
        </div>
      </form>
    </div>
  );
}
