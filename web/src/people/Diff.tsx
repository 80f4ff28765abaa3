/*
 * Diff.tsx — an audit entry's before/after as a readable diff: both states are
 * flattened to key paths ("limits.daily", "brands[0]"), listed side by side,
 * and the paths whose value differs are highlighted (added, removed, changed).
 * A state that is not an object (null, a string from a damaged row) is one
 * value under the path "(value)".
 */

type Flat = Map<string, string>;

/** Key path → JSON text of the leaf, for objects and arrays nested to any depth. */
export function flatten(v: unknown, prefix = '', out: Flat = new Map()): Flat {
  if (v !== null && typeof v === 'object') {
    const entries = Array.isArray(v) ? v.map((x, i) => [`[${i}]`, x] as const) : Object.entries(v as object);
    if (entries.length === 0) out.set(prefix || '(value)', Array.isArray(v) ? '[]' : '{}');
    for (const [k, x] of entries) {
      const path = Array.isArray(v) ? `${prefix}${k}` : prefix ? `${prefix}.${k}` : String(k);
      flatten(x, path, out);
    }
  } else if (v !== undefined) {
    out.set(prefix || '(value)', JSON.stringify(v));
  }
  return out;
}

export interface DiffRow {
  path: string;
  before?: string;
  after?: string;
  change: 'same' | 'added' | 'removed' | 'changed';
}

/** The rows of the diff, in the order keys first appear (before's, then after's new ones). */
export function diffRows(before: unknown, after: unknown): DiffRow[] {
  const b = before === null || before === undefined ? new Map<string, string>() : flatten(before);
  const a = after === null || after === undefined ? new Map<string, string>() : flatten(after);
  const paths = [...new Set([...b.keys(), ...a.keys()])];
  return paths.map((path) => {
    const x = b.get(path);
    const y = a.get(path);
    const change = x === undefined ? 'added' : y === undefined ? 'removed' : x === y ? 'same' : 'changed';
    return { path, before: x, after: y, change };
  });
}

export function Diff({ before, after }: { before: unknown; after: unknown }) {
  const rows = diffRows(before, after);
  if (rows.length === 0) return <p class="pp-muted">No before/after state recorded.</p>;
  return (
    <table class="table pp-table pp-diff" data-testid="audit-diff">
      <thead>
        <tr>
          <th scope="col">Key</th>
          <th scope="col">Before</th>
          <th scope="col">After</th>
        </tr>
      </thead>
      <tbody>
        {rows.map((r) => (
          <tr class={`pp-${r.change}`} data-change={r.change} data-testid="diff-row">
            <th scope="row" class="pp-mono">
              {r.path}
              {r.change !== 'same' && <span class="pp-sr"> ({r.change})</span>}
            </th>
            <td class="pp-mono">{r.before ?? ''}</td>
            <td class="pp-mono">{r.after ?? ''}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
