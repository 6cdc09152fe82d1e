import { countSegments } from '../../../domain/sms-segments';

test.each([
  ['empty', '', 'GSM-7', 0, 1],
  ['160 GSM-7 characters fit one segment', 'a'.repeat(160), 'GSM-7', 160, 1],
  ['161 need two parts of 153', 'a'.repeat(161), 'GSM-7', 161, 2],
  ['306 septets are exactly two parts', 'a'.repeat(306), 'GSM-7', 306, 2],
  ['307 need three', 'a'.repeat(307), 'GSM-7', 307, 3],
  ['extension characters cost two septets', '€'.repeat(80), 'GSM-7', 160, 1],
  ['one more extension character spills over', '€'.repeat(81), 'GSM-7', 162, 2],
  ['one non-GSM character switches to UCS-2', `${'a'.repeat(69)}ł`, 'UCS-2', 70, 1],
  ['71 UCS-2 units need two parts of 67', `${'a'.repeat(70)}ł`, 'UCS-2', 71, 2],
  ['an emoji is two UTF-16 units', '🎉', 'UCS-2', 2, 1],
])('%s', (_name, text, encoding, units, segments) => {
  expect(countSegments(text)).toEqual({ encoding, units, segments });
});
