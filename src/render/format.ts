// Number and shape formatting shared by every text view (summary, graph labels, validate).
import type { Shape } from '../ir/graph.js';

const UNITS = ['', 'K', 'M', 'G', 'T', 'P'];

/**
 * A count in human units with three significant digits, trailing zeros dropped:
 * 864 -> '864', 3716577 -> '3.72M', 1200000 -> '1.2M', 15605236352 -> '15.6G'.
 */
export function formatCount(n: number): string {
  if (!Number.isFinite(n)) return String(n);
  const sign = n < 0 ? '-' : '';
  let v = Math.abs(n);
  if (v < 1000) return sign + trimZeros(Number.isInteger(v) ? String(v) : v.toPrecision(3));
  let u = 0;
  while (v >= 1000 && u < UNITS.length - 1) {
    v /= 1000;
    u++;
  }
  let text = v.toPrecision(3);
  // 999.96K rounds to '1.00e+3': carry into the next unit instead of printing '1000K'.
  if (Number(text) >= 1000 && u < UNITS.length - 1) {
    v /= 1000;
    u++;
    text = v.toPrecision(3);
  }
  return sign + trimZeros(Number(text) >= 1000 ? String(Math.round(v)) : text) + UNITS[u];
}

function trimZeros(s: string): string {
  return s.includes('.') && !s.includes('e') ? s.replace(/\.?0+$/, '') : s;
}

/** An exact integer with thousands separators: 3716577 -> '3,716,577'. */
export const formatInt = (n: number): string => n.toLocaleString('en-US', { maximumFractionDigits: 0 });

/** FLOPs as GFLOP with two decimals: 15605236352 -> '15.61'. */
export const formatGflop = (flops: number): string => (flops / 1e9).toFixed(2);

/** HxWxC, the way the spec language and the error messages write shapes. */
export const formatShape = (s: Shape): string => `${s.h}x${s.w}x${s.c}`;

/** [h, w] -> 'HxW'; a square stride or size stays a pair so input and stride read alike. */
export const formatPair = (p: readonly [number, number] | readonly number[]): string => `${p[0]}x${p[1]}`;
