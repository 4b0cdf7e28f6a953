/** Small text helpers for the human output of `hubnlu logs` and `hubnlu stats`. */

const pad2 = (n: number): string => String(n).padStart(2, '0');

/** `2024-05-01 08:03:09` in the hub's local time zone (the JSON output carries UTC ISO times). */
export function localDateTime(ms: number): string {
  const d = new Date(ms);
  return `${d.getFullYear()}-${pad2(d.getMonth() + 1)}-${pad2(d.getDate())} ${pad2(d.getHours())}:${pad2(d.getMinutes())}:${pad2(d.getSeconds())}`;
}

/** `05-01 08:03:09`: the short form for table rows. */
export function shortDateTime(ms: number): string {
  return localDateTime(ms).slice(5);
}

/** One line, at most `max` characters (code points), `…` when cut. Line breaks and tabs become spaces so tables stay aligned. */
export function oneLine(text: string, max: number): string {
  const chars = Array.from(text.replace(/[\t\r\n]+/g, ' '));
  if (chars.length <= max) return chars.join('');
  return max <= 1 ? '…'.slice(0, max) : chars.slice(0, max - 1).join('').trimEnd() + '…';
}

/**
 * Text from the log shown in a terminal, control characters (line breaks included) as `·`: a label or a name stored
 * by whoever could publish a bridge request must not reach the terminal as an escape sequence (ESC, BEL, C1 codes).
 */
export function printable(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u001f\u007f-\u009f]/g, '·');
}

/** Length in code points, the unit `oneLine` cuts by. */
export function width(text: string): number {
  return Array.from(text).length;
}

export function padRight(text: string, w: number): string {
  return text + ' '.repeat(Math.max(0, w - width(text)));
}

export function padLeft(text: string, w: number): string {
  return ' '.repeat(Math.max(0, w - width(text))) + text;
}

/** `0.0276` → `2.8%`. */
export function percent(share: number): string {
  return `${(share * 100).toFixed(1)}%`;
}

/** `1234567` → `1,234,567`. */
export function count(n: number): string {
  return n.toLocaleString('en-US');
}

/** Latency for people: `0.42 ms`, `12.3 ms`, `1520 ms`. */
export function ms(value: number | null): string {
  if (value === null) return '-';
  return `${value < 1 ? value.toFixed(2) : value < 100 ? value.toFixed(1) : value.toFixed(0)} ms`;
}
