import { dateTimeFormat, numberFormat } from '../../../domain/intl';

const currency = (i: number) =>
  [Math.floor(i / 676), Math.floor(i / 26) % 26, i % 26].map((n) => String.fromCharCode(65 + n)).join('');

test('a formatter is built once per locale and options, and formats as a new one would', () => {
  const options = { dateStyle: 'medium', timeStyle: 'short', timeZone: 'Europe/Berlin' } as const;
  const first = dateTimeFormat('de-DE', options);
  expect(dateTimeFormat('de-DE', { ...options })).toBe(first);
  expect(dateTimeFormat('de-DE', { ...options, timeZone: 'UTC' })).not.toBe(first);
  expect(dateTimeFormat('en-US', options)).not.toBe(first);
  const at = new Date('2026-12-31T19:00:00Z');
  expect(first.format(at)).toBe(new Intl.DateTimeFormat('de-DE', options).format(at));
  expect(numberFormat('en-US', { style: 'currency', currency: 'EUR' }).format(12.5)).toBe('€12.50');
});

test('the cache is bounded: past its cap it starts over rather than growing', () => {
  const first = numberFormat('en-US', { style: 'currency', currency: currency(0) });
  for (let i = 1; i <= 300; i++) numberFormat('en-US', { style: 'currency', currency: currency(i) });
  expect(numberFormat('en-US', { style: 'currency', currency: currency(0) })).not.toBe(first);
});
