/*
 * Games.tsx — games and providers (/games, games.read).
 *
 * One brand at a time (?brand=…, the brands of the caller's scope): the
 * providers (status, protocol), their games (category, RTP, volatility, limits)
 * with whether the brand offers each one, a switch for it (games.manage: PUT
 * /v1/admin/brands/{brand}/games/{provider}/{game}, audited server-side), and
 * the in-house games of the brand (Originals.tsx).
 *
 * Games are read one page at a time, never all. Whether the brand offers the
 * games of a page: GET /v1/admin/games?brand=… lists only the switched-on games,
 * in the same id order, so the same cursor and limit answer exactly the
 * switched-on games among that page's (at most `limit` of them, all with ids
 * after the cursor: they come first).
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import { get, patch, put } from '../lib/api';
import { navigate, useLocation } from '../lib/router';
import { useSession } from '../lib/session';
import { ErrorBox, Money, Pager, usePaged } from '../components/ui';
import { ConfirmDialog, Status, bp, useBrands } from './common';
import { Originals } from './Originals';

interface Provider {
  code: string;
  name: string;
  protocol: string;
  status: string;
  timestamp_window_s: number;
  secret_fingerprint: string | null;
}

interface Game {
  provider: string;
  code: string;
  name: string;
  category: string;
  rtp_bp: number;
  volatility: string;
  status: string;
  limits: { currency: string; min_bet: string | null; max_bet: string | null }[];
}

interface GamePage {
  games: Game[];
  enabled: Set<string> | null; // null: no brand chosen
}

const PAGE = 50;
const key = (g: { provider: string; code: string }) => `${g.provider}/${g.code}`;

/** Pages of games (provider filter) with the brand's switch for each. */
function useGames(provider: string, brand: string) {
  const [pages, setPages] = useState<GamePage[]>([]);
  const [next, setNext] = useState<string | null>(null);
  const [done, setDone] = useState(false);
  const [loading, setLoading] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [gen, setGen] = useState(0);
  const genRef = useRef(0);

  async function load(cursor: string | null, reset: boolean, g: number) {
    setLoading(true);
    setError(null);
    try {
      const q = { provider: provider || undefined, limit: PAGE, cursor: cursor ?? undefined };
      const [all, on] = await Promise.all([
        get<{ games: Game[]; next_cursor: string | null }>('/v1/admin/games', q),
        brand ? get<{ games: Game[] }>('/v1/admin/games', { ...q, brand }) : Promise.resolve(null),
      ]);
      if (g !== genRef.current) return;
      const page = { games: all.games, enabled: on ? new Set(on.games.map(key)) : null };
      setPages((p) => (reset ? [page] : [...p, page]));
      setNext(all.next_cursor);
      setDone(all.next_cursor === null);
    } catch (e) {
      if (g === genRef.current) setError(e);
    } finally {
      if (g === genRef.current) setLoading(false);
    }
  }
  useEffect(() => {
    const g = ++genRef.current;
    setPages([]);
    setDone(false);
    load(null, true, g);
  }, [provider, brand, gen]);

  const items = pages.flatMap((p) => p.games.map((game) => ({ game, enabled: p.enabled?.has(key(game)) ?? null })));
  return {
    items,
    error,
    loading,
    done,
    more: () => !done && !loading && load(next, false, genRef.current),
    reload: () => setGen((n) => n + 1),
    /** After a switch: the page holding that game now says so. */
    setEnabled: (g: Game, on: boolean) =>
      setPages((ps) =>
        ps.map((p) => {
          if (!p.enabled || !p.games.some((x) => key(x) === key(g))) return p;
          const s = new Set(p.enabled);
          if (on) s.add(key(g));
          else s.delete(key(g));
          return { ...p, enabled: s };
        }),
      ),
    replace: (g: Game) =>
      setPages((ps) => ps.map((p) => ({ ...p, games: p.games.map((x) => (key(x) === key(g) ? g : x)) }))),
  };
}

function BrandSwitch({ brand, game, enabled, onDone }: { brand: string; game: Game; enabled: boolean; onDone: (on: boolean) => void }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  async function flip() {
    setBusy(true);
    setError(null);
    try {
      const r = await put<{ enabled: boolean }>(
        `/v1/admin/brands/${encodeURIComponent(brand)}/games/${encodeURIComponent(game.provider)}/${encodeURIComponent(game.code)}`,
        { enabled: !enabled },
      );
      onDone(r.enabled);
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  }
  return (
    <span>
      <label class="m-switch">
        <input
          type="checkbox"
          checked={enabled}
          disabled={busy}
          onChange={flip}
          aria-label={`Offer ${game.name} on ${brand}`}
          data-testid={`switch-${game.provider}-${game.code}`}
        />
        {enabled ? 'on' : 'off'}
      </label>
      <ErrorBox error={error} />
    </span>
  );
}

/** The game's platform-wide status (every brand): active ⇄ disabled, confirmed first. */
function GameStatus({ game, onDone }: { game: Game; onDone: (g: Game) => void }) {
  const [open, setOpen] = useState(false);
  const to = game.status === 'active' ? 'disabled' : 'active';
  return (
    <>
      <button type="button" class="m-small" onClick={() => setOpen(true)} data-testid={`status-${game.provider}-${game.code}`}>
        {to === 'disabled' ? 'Disable everywhere' : 'Activate'}
      </button>
      {open && (
        <ConfirmDialog
          title={to === 'disabled' ? `Disable ${game.name} on every brand` : `Activate ${game.name}`}
          confirm={to === 'disabled' ? 'Disable' : 'Activate'}
          onConfirm={async () => {
            const r = await patch<{ game: Game }>(
              `/v1/admin/providers/${encodeURIComponent(game.provider)}/games/${encodeURIComponent(game.code)}`,
              { status: to },
            );
            onDone(r.game);
          }}
          onClose={() => setOpen(false)}
        >
          <p>
            {to === 'disabled'
              ? 'No brand can offer it while it is disabled, whatever its switch says. Rounds in play settle as usual.'
              : 'Brands that switched it on offer it again.'}
          </p>
        </ConfirmDialog>
      )}
    </>
  );
}

function Providers({ selected, onSelect }: { selected: string; onSelect: (code: string) => void }) {
  const list = usePaged<Provider>('/v1/admin/providers', 'providers', {}, 50);
  return (
    <section>
      <h2>Providers</h2>
      <ErrorBox error={list.error} />
      <table class="table m-table" data-testid="providers">
        <thead>
          <tr>
            <th>Code</th>
            <th>Name</th>
            <th>Protocol</th>
            <th>Status</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {list.items.map((p) => (
            <tr data-testid="provider-row" data-code={p.code} class={p.code === selected ? 'm-selected' : ''}>
              <td>
                <code>{p.code}</code>
              </td>
              <td>{p.name}</td>
              <td>{p.protocol}</td>
              <td>
                <Status value={p.status} />
              </td>
              <td>
                <button type="button" class="m-small" onClick={() => onSelect(p.code === selected ? '' : p.code)}>
                  {p.code === selected ? 'All games' : 'Its games'}
                </button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {!list.loading && !list.error && list.items.length === 0 && <p class="m-empty">No providers yet.</p>}
      <Pager list={list} />
    </section>
  );
}

/** The bet limits in the brand's currencies (all of them when no brand is known). */
function Limits({ game, currencies }: { game: Game; currencies: string[] | null }) {
  const shown = currencies ? game.limits.filter((l) => currencies.includes(l.currency)) : game.limits;
  if (shown.length === 0) return <span class="m-muted">{currencies ? 'none in the brand’s currencies' : 'none'}</span>;
  return (
    <span class="m-limits">
      {shown.map((l) => (
        <span>
          <Money amount={l.min_bet} currency={null} /> – {l.max_bet ? <Money amount={l.max_bet} currency={null} /> : '∞'}{' '}
          {l.currency}
        </span>
      ))}
    </span>
  );
}

export function Games() {
  const { query } = useLocation();
  const { can } = useSession();
  const brands = useBrands();
  const brand = query.get('brand') ?? brands.data?.[0]?.code ?? '';
  const currencies = brands.data?.find((b) => b.code === brand)?.currencies ?? null;
  const provider = query.get('provider') ?? '';
  const games = useGames(provider, brand);
  const manage = can('games.manage');

  function setParam(k: string, v: string) {
    const q = new URLSearchParams(location.search);
    if (v) q.set(k, v);
    else q.delete(k);
    navigate(`/games${q.toString() ? `?${q}` : ''}`, true);
  }

  return (
    <div class="m-page">
      <h1>Games and providers</h1>
      <div class="filters m-filters">
        <label>
          Brand
          <select name="brand" value={brand} onChange={(e) => setParam('brand', e.currentTarget.value)}>
            {(brands.data ?? []).map((b) => (
              <option value={b.code}>{b.name || b.code}</option>
            ))}
          </select>
        </label>
      </div>
      <ErrorBox error={brands.error} />
      <Providers selected={provider} onSelect={(c) => setParam('provider', c)} />
      <section>
        <h2>
          Games{provider ? ` of ${provider}` : ''}
          {brand ? ` — offered on ${brand}?` : ''}
        </h2>
        <ErrorBox error={games.error} />
        <table class="table m-table" data-testid="games">
          <thead>
            <tr>
              <th>Provider</th>
              <th>Game</th>
              <th>Category</th>
              <th class="num">RTP</th>
              <th>Volatility</th>
              <th>Bet limits</th>
              <th>Status</th>
              {brand && <th>On {brand}</th>}
            </tr>
          </thead>
          <tbody>
            {games.items.map(({ game, enabled }) => (
              <tr
                data-testid="game-row"
                data-game={key(game)}
                data-enabled={enabled === null ? undefined : String(enabled)}
                class={enabled === false || game.status !== 'active' ? 'm-off' : ''}
              >
                <td>
                  <code>{game.provider}</code>
                </td>
                <td>
                  {game.name} <code class="m-muted">{game.code}</code>
                </td>
                <td>{game.category}</td>
                <td class="num">{bp(game.rtp_bp)}</td>
                <td>{game.volatility}</td>
                <td>
                  <Limits game={game} currencies={currencies} />
                </td>
                <td>
                  <Status value={game.status} /> {manage && <GameStatus game={game} onDone={games.replace} />}
                </td>
                {brand && (
                  <td data-testid="brand-enabled">
                    {manage ? (
                      <BrandSwitch brand={brand} game={game} enabled={!!enabled} onDone={(on) => games.setEnabled(game, on)} />
                    ) : enabled ? (
                      'enabled'
                    ) : (
                      'disabled'
                    )}
                  </td>
                )}
              </tr>
            ))}
          </tbody>
        </table>
        {!games.loading && !games.error && games.items.length === 0 && <p class="m-empty">No games.</p>}
        <Pager list={games} />
      </section>
      {brand && <Originals brand={brand} />}
    </div>
  );
}
