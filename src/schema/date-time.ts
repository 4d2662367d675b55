/**
 * RFC 3339 date-time check used for the `date-time` format in both modes (ajv-formats' version was
 * most of the cost of a lenient validation; this one scans char codes and allocates nothing).
 *
 * Accepts `YYYY-MM-DD[T|t| ]HH:MM:SS[.fraction](Z|z|±HH[[:]MM])` with a real calendar date, hours
 * 0–23, minutes 0–59, seconds 0–59, or 60 in minute 59 (a leap second). A time zone is required: a
 * timestamp without one is ambiguous. Strict mode additionally fixes the exact form with a pattern.
 */

const DAYS_IN_MONTH = [0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function digit(s: string, i: number): number {
  const c = s.charCodeAt(i) - 48;
  return c >= 0 && c <= 9 ? c : -1;
}

function twoDigits(s: string, i: number): number {
  const a = digit(s, i);
  const b = digit(s, i + 1);
  return a < 0 || b < 0 ? -1 : a * 10 + b;
}

export function isRfc3339DateTime(s: string): boolean {
  const n = s.length;
  if (n < 20 || n > 64) return false;
  const y1 = twoDigits(s, 0);
  const y2 = twoDigits(s, 2);
  const month = twoDigits(s, 5);
  const day = twoDigits(s, 8);
  const hour = twoDigits(s, 11);
  const minute = twoDigits(s, 14);
  const second = twoDigits(s, 17);
  if (y1 < 0 || y2 < 0 || month < 1 || month > 12 || day < 1 || hour < 0 || hour > 23) return false;
  if (minute < 0 || minute > 59 || second < 0 || second > 60 || (second === 60 && minute !== 59))
    return false;
  const sep = s.charCodeAt(10);
  // '-' '-' [T t space] ':' ':'
  if (s.charCodeAt(4) !== 45 || s.charCodeAt(7) !== 45 || (sep !== 84 && sep !== 116 && sep !== 32))
    return false;
  if (s.charCodeAt(13) !== 58 || s.charCodeAt(16) !== 58) return false;
  const year = y1 * 100 + y2;
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  const maxDay = month === 2 && leap ? 29 : (DAYS_IN_MONTH[month] as number);
  if (day > maxDay) return false;
  let i = 19;
  if (s.charCodeAt(i) === 46 /* . */) {
    i++;
    const fractionStart = i;
    while (i < n && digit(s, i) >= 0) i++;
    if (i === fractionStart) return false;
  }
  const zone = s.charCodeAt(i);
  if (zone === 90 || zone === 122 /* Z z */) return i + 1 === n;
  if (zone !== 43 && zone !== 45 /* + - */) return false;
  const zoneHours = twoDigits(s, i + 1);
  if (zoneHours < 0 || zoneHours > 23) return false;
  i += 3;
  if (i === n) return true;
  if (s.charCodeAt(i) === 58 /* : */) i++;
  const zoneMinutes = twoDigits(s, i);
  return zoneMinutes >= 0 && zoneMinutes <= 59 && i + 2 === n;
}
