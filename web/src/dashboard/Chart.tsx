/*
 * Chart.tsx — a per-minute bar chart drawn as SVG (no chart package): one bar
 * per bucket, negative values below the axis (GGR), each bar's exact decimal
 * value in its tooltip. Only the bar heights go through Number(): pixels, not
 * money; the figures themselves stay decimal strings.
 */
import { money } from '../lib/format';

export interface Bar {
  label: string; // the bucket's time as shown ("14:05")
  value: string; // a decimal string
}

export function MinuteChart({ title, bars, currency, testid }: {
  title: string;
  bars: Bar[];
  currency: string;
  testid?: string;
}) {
  const W = 600;
  const H = 140;
  const pad = 4;
  const nums = bars.map((b) => Number(b.value) || 0);
  const max = Math.max(0, ...nums);
  const min = Math.min(0, ...nums);
  const span = max - min || 1;
  const zeroY = pad + ((max - 0) / span) * (H - 2 * pad);
  const bw = (W - 2 * pad) / Math.max(1, bars.length);
  const total = bars.length ? bars[bars.length - 1] : null;
  return (
    <figure class="chart" data-testid={testid}>
      <figcaption>
        {title} <span class="muted">per minute, last 60 minutes</span>
      </figcaption>
      <svg viewBox={`0 0 ${W} ${H}`} preserveAspectRatio="none" role="img" aria-label={title}>
        <line x1={pad} x2={W - pad} y1={zeroY} y2={zeroY} class="axis" />
        {bars.map((b, i) => {
          const v = nums[i];
          const h = (Math.abs(v) / span) * (H - 2 * pad);
          const y = v >= 0 ? zeroY - h : zeroY;
          return (
            <rect x={pad + i * bw + 0.5} y={y} width={Math.max(1, bw - 1)} height={Math.max(v === 0 ? 0 : 1, h)}
              class={v < 0 ? 'bar neg' : 'bar'}>
              <title>{`${b.label}: ${money(b.value, currency)}`}</title>
            </rect>
          );
        })}
      </svg>
      <div class="chart-scale muted">
        <span>{bars[0]?.label}</span>
        <span>
          max {money(String(max === 0 ? '0' : bars[nums.indexOf(max)]?.value ?? '0'), currency)}
        </span>
        <span>{total?.label}</span>
      </div>
    </figure>
  );
}
