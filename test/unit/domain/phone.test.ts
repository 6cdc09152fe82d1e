import { maskPhone, normalizePhone } from '../../../domain/phone';

test.each([
  ['(415) 555-2671', 'US', '+14155552671'],
  ['+1 415 555 2671', 'US', '+14155552671'],
  ['+44 7911 123456', 'US', '+447911123456'],
  ['07911 123456', 'GB', '+447911123456'],
  ['  4155552671 ', 'US', '+14155552671'],
])('%s in %s is %s', (raw, region, e164) => {
  expect(normalizePhone(raw, region)).toEqual({ ok: true, e164 });
});

test.each([
  ['', 'is empty'],
  ['hello', 'is not a phone number'],
  ['+1 555 0100', 'is not a valid phone number'],
  ['+1 415 555 26710', 'is not a valid phone number'],
])('"%s" is refused: %s', (raw, error) => {
  expect(normalizePhone(raw, 'US')).toEqual({ ok: false, error });
});

test('masking keeps the country code and the last two digits only', () => {
  expect(maskPhone('+14155552671')).toBe('+1********71');
  expect(maskPhone('+447911123456')).toBe('+44********56');
  expect(maskPhone('4155552671')).toBe('***71');
  expect(maskPhone('123')).toBe('***');
  for (const masked of [maskPhone('+14155552671'), maskPhone('+447911123456')]) {
    expect(masked).not.toMatch(/\d{3}/);
  }
});
