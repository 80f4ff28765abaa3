/*
 * BrandPage.tsx — /brands/:code (brands.read): one brand (GET /v1/admin/brands/{code})
 * with every setting the server knows (settings.ts), labelled, with its unit and
 * what applies without a value; money settings per currency in the currency's
 * major units.
 *
 * A member with brands.manage edits the name, jurisdiction, status, accepted
 * currencies, default currency and settings and saves: PATCH
 * /v1/admin/brands/{code} with the fields that changed (the settings object whole:
 * the server replaces it; the currency list whole, the default always in it). A
 * currency added gets its per-currency settings once saved (the reply brings its
 * exponent); players keep their currency when it leaves the list. The server checks every key
 * (422 FIELD_INVALID naming "settings.<key>", "name", …): its message is shown at
 * that field and the form keeps what was typed. The save is audited by the server
 * (brand.update, before and after); members with audit.read get a link to the
 * brand's entries. Members without brands.manage see the values read-only.
 */
import type { ComponentChildren } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { ApiError, get, patch } from '../lib/api';
import { minorToMajor } from '../lib/decimal';
import { useSession } from '../lib/session';
import { ErrorBox, Money, Time, useAsync } from '../components/ui';
import { Link, Status } from '../money/common';
import {
  type BrandFull, codes, formOf, SETTINGS, type SettingDef, type SettingsForm, sameJson, settingCurrencies,
  settingsOf,
} from './settings';
import './brands.css';

export function BrandPage({ params }: { params: Record<string, string> }) {
  const code = params.code;
  const res = useAsync(() => get<{ brand: BrandFull }>(`/v1/admin/brands/${encodeURIComponent(code)}`), [code]);
  const [brand, setBrand] = useState<BrandFull | null>(null);
  const [saved, setSaved] = useState(false);
  useEffect(() => {
    if (res.data) setBrand(res.data.brand);
  }, [res.data]);
  if (res.error)
    return (
      <div class="m-page">
        <h1>Brand {code}</h1>
        <ErrorBox error={res.error} />
        <p>
          <Link to="/brands">All brands</Link>
        </p>
      </div>
    );
  if (!brand) return <p class="loading">Loading…</p>;
  return (
    <BrandView key={brand.updated_at} brand={brand} saved={saved}
      onSaved={(b) => {
        setBrand(b);
        setSaved(true);
      }} />
  );
}

/** The server's field of a refusal ("settings.deposit_mins", "name"), if it names one. */
function fieldOf(error: unknown): string | undefined {
  if (!(error instanceof ApiError)) return undefined;
  return (error.body as { error?: { field?: string } } | null)?.error?.field ?? undefined;
}

function FieldError({ field, text }: { field: string; text: string | undefined }) {
  if (!text) return null;
  return (
    <p class="error b-field-error" role="alert" data-testid="field-error" data-field={field}>
      {text}
    </p>
  );
}

function BrandView({ brand, saved, onSaved }: { brand: BrandFull; saved: boolean; onSaved: (b: BrandFull) => void }) {
  const { can } = useSession();
  const editable = can('brands.manage');
  const [name, setName] = useState(brand.name);
  const [jurisdiction, setJurisdiction] = useState(brand.jurisdiction);
  const [status, setStatus] = useState(brand.status);
  const [currencies, setCurrencies] = useState(brand.currencies.join(', '));
  const [defaultCurrency, setDefaultCurrency] = useState(brand.default_currency);
  const [form, setForm] = useState<SettingsForm>(() => formOf(brand));
  const [local, setLocal] = useState<Record<string, string>>({});
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const [note, setNote] = useState<string | null>(null);

  const serverField = fieldOf(error);
  const serverText = error instanceof ApiError ? `${error.code}: ${error.message}` : undefined;
  const shownAt = new Set(['name', 'jurisdiction', 'status', 'currencies', 'default_currency', ...SETTINGS.map((s) => `settings.${s.key}`)]);
  /** The message for a field: the form's own check, else the server's when it names this field. */
  const errorAt = (f: string) => local[f] ?? (serverField === f ? serverText : undefined);

  async function save(e: Event) {
    e.preventDefault();
    setNote(null);
    setError(null);
    const { settings, errors } = settingsOf(brand, form);
    setLocal(errors);
    if (Object.keys(errors).length) return;
    const body: Record<string, unknown> = {};
    if (name.trim() !== brand.name) body.name = name.trim();
    if (jurisdiction.trim() !== brand.jurisdiction) body.jurisdiction = jurisdiction.trim();
    if (status !== brand.status) body.status = status;
    const def = defaultCurrency.trim().toUpperCase();
    const typed = codes(currencies);
    const list = typed.includes(def) ? typed : [def, ...typed];
    if (def !== brand.default_currency) body.default_currency = def;
    if (!sameJson([...list].sort(), [...brand.currencies].sort())) body.currencies = list; // the server keeps them sorted
    if (!sameJson(settings, brand.settings)) body.settings = settings;
    if (Object.keys(body).length === 0) {
      setNote('Nothing changed.');
      return;
    }
    setBusy(true);
    try {
      const r = await patch<{ brand: BrandFull }>(`/v1/admin/brands/${encodeURIComponent(brand.code)}`, body);
      onSaved(r.brand); // a new updated_at: the view starts again from the saved brand
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  }

  const setScalar = (key: string, v: string) => setForm((f) => ({ ...f, [key]: v }));
  const setMoney = (key: string, cur: string, v: string) =>
    setForm((f) => ({ ...f, [key]: { ...(f[key] as Record<string, string>), [cur]: v } }));

  return (
    <div class="m-page b-page" data-testid="brand-page" data-code={brand.code}>
      <div class="page-head">
        <h1>
          {brand.name} <code>{brand.code}</code>
        </h1>
        <Status value={brand.status} />
        <Link to="/brands">All brands</Link>
        {can('audit.read') && (
          <Link to={`/audit?target_kind=brand&target_id=${encodeURIComponent(brand.code)}`} testid="brand-audit">
            Changes (audit log)
          </Link>
        )}
      </div>
      <dl class="m-facts" data-testid="brand-facts">
        <dt>Default currency</dt>
        <dd>{brand.default_currency}</dd>
        <dt>Currencies</dt>
        <dd data-testid="brand-currencies">{brand.currencies.join(', ')}</dd>
        <dt>Created</dt>
        <dd>
          <Time at={brand.created_at} />
        </dd>
        <dt>Last changed</dt>
        <dd>
          <Time at={brand.updated_at} />
        </dd>
      </dl>
      {!editable && (
        <p class="m-muted" data-testid="read-only">
          Read only: changing a brand needs the brands.manage permission.
        </p>
      )}
      <form class="b-form" data-testid="brand-form" onSubmit={save} noValidate>
        <section>
          <h2>Brand</h2>
          <Row label="Name" field="name" error={errorAt('name')}>
            {editable ? (
              <input name="name" value={name} onInput={(e) => setName(e.currentTarget.value)} />
            ) : (
              <span data-testid="value">{brand.name}</span>
            )}
          </Row>
          <Row label="Jurisdiction" unit="licence: MT, GB, CA-ON" field="jurisdiction" error={errorAt('jurisdiction')}>
            {editable ? (
              <input name="jurisdiction" value={jurisdiction} onInput={(e) => setJurisdiction(e.currentTarget.value)} />
            ) : (
              <span data-testid="value">{brand.jurisdiction}</span>
            )}
          </Row>
          <Row label="Status" unit="suspended: no new registrations; players can still log in and withdraw" field="status"
            error={errorAt('status')}>
            {editable ? (
              <select name="status" value={status} onChange={(e) => setStatus(e.currentTarget.value)}>
                <option value="active">active</option>
                <option value="suspended">suspended</option>
              </select>
            ) : (
              <span data-testid="value">{brand.status}</span>
            )}
          </Row>
          <Row label="Currencies" unit="accepted, e.g. EUR, USD; the default is always one" field="currencies"
            error={errorAt('currencies')}>
            {editable ? (
              <input name="currencies" value={currencies} onInput={(e) => setCurrencies(e.currentTarget.value)} />
            ) : (
              <span data-testid="value">{brand.currencies.join(', ')}</span>
            )}
            {editable && (
              <p class="m-muted b-help">
                A currency added gets its limits and thresholds below once saved; players keep their currency when it
                leaves the list.
              </p>
            )}
          </Row>
          <Row label="Default currency" unit="new players' currency unless they choose" field="default_currency"
            error={errorAt('default_currency')}>
            {editable ? (
              <input name="default_currency" value={defaultCurrency}
                onInput={(e) => setDefaultCurrency(e.currentTarget.value)} />
            ) : (
              <span data-testid="value">{brand.default_currency}</span>
            )}
          </Row>
        </section>
        <section>
          <h2>Settings</h2>
          {SETTINGS.map((s) => (
            <Setting key={s.key} def={s} brand={brand} form={form} editable={editable} errorAt={errorAt}
              setScalar={setScalar} setMoney={setMoney} />
          ))}
        </section>
        {error && !(serverField && shownAt.has(serverField)) ? <ErrorBox error={error} /> : null}
        {error && serverField && shownAt.has(serverField) ? (
          <p class="m-muted" data-testid="not-saved">
            Not saved: see the field marked.
          </p>
        ) : null}
        {Object.keys(local).length > 0 && (
          <p class="m-muted" data-testid="not-saved">
            Not saved: see the fields marked.
          </p>
        )}
        {note && <p class="m-muted">{note}</p>}
        {saved && !error && !note && Object.keys(local).length === 0 && (
          <p class="notice" role="status" data-testid="saved">
            Saved.
          </p>
        )}
        {editable && (
          <div class="actions">
            <button type="submit" class="primary" data-testid="brand-save" disabled={busy}>
              {busy ? 'Saving…' : 'Save'}
            </button>
          </div>
        )}
      </form>
    </div>
  );
}

function Row(props: { label: string; unit?: string; field: string; error?: string; children: ComponentChildren }) {
  return (
    <div class="b-row" data-testid="setting" data-field={props.field}>
      <div class="b-label">
        <span>{props.label}</span>
        {props.unit && <span class="m-muted"> ({props.unit})</span>}
      </div>
      <div class="b-value">
        {props.children}
        <FieldError field={props.field} text={props.error} />
      </div>
    </div>
  );
}

function Setting(props: {
  def: SettingDef;
  brand: BrandFull;
  form: SettingsForm;
  editable: boolean;
  errorAt: (f: string) => string | undefined;
  setScalar: (k: string, v: string) => void;
  setMoney: (k: string, c: string, v: string) => void;
}) {
  const { def, brand, form, editable } = props;
  const field = `settings.${def.key}`;
  const stored = brand.settings[def.key];
  if (def.kind !== 'money') {
    const text = form[def.key] as string;
    return (
      <Row label={def.label} unit={def.unit} field={field} error={props.errorAt(field)}>
        {editable ? (
          def.kind === 'choice' ? (
            <select name={def.key} value={text} onChange={(e) => props.setScalar(def.key, e.currentTarget.value)}>
              <option value="">(default)</option>
              {def.choices!.map((c) => (
                <option value={c}>{c}</option>
              ))}
            </select>
          ) : (
            <input name={def.key} inputMode="numeric" value={text} placeholder="default"
              onInput={(e) => props.setScalar(def.key, e.currentTarget.value)} />
          )
        ) : (
          <span data-testid="value">{stored === undefined ? 'default' : `${String(stored)}${def.unit ? ` ${def.unit}` : ''}`}</span>
        )}
        <p class="m-muted b-help">{def.help}</p>
      </Row>
    );
  }
  const map = stored && typeof stored === 'object' ? (stored as Record<string, unknown>) : {};
  const texts = (form[def.key] as Record<string, string>) ?? {};
  return (
    <Row label={def.label} unit="per currency, in its major units" field={field} error={props.errorAt(field)}>
      <table class="b-currencies">
        <tbody>
          {settingCurrencies(brand, def.key).map((c) => {
            const exp = brand.currency_exponents[c];
            const v = map[c];
            const cf = `${field}.${c}`;
            const dflt =
              def.defaultMinor !== undefined && exp !== undefined ? `${minorToMajor(def.defaultMinor, exp)} (default)` : 'none';
            return (
              <tr data-testid="setting-currency" data-currency={c}>
                <th>{c}</th>
                <td>
                  {editable ? (
                    <input name={`${def.key}.${c}`} inputMode="decimal" value={texts[c] ?? ''} placeholder={dflt}
                      aria-label={`${def.label} ${c}`} onInput={(e) => props.setMoney(def.key, c, e.currentTarget.value)} />
                  ) : typeof v === 'number' && exp !== undefined ? (
                    <span data-testid="value">
                      <Money amount={minorToMajor(v, exp)} currency={c} />
                    </span>
                  ) : (
                    <span data-testid="value">{dflt}</span>
                  )}
                  {editable && <span class="m-muted"> {c}</span>}
                  <FieldError field={cf} text={props.errorAt(cf)} />
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
      <p class="m-muted b-help">{def.help}</p>
    </Row>
  );
}
