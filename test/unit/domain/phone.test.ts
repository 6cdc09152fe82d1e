import { maskPhone, normalizePhone, redactPhones } from '../../../domain/phone';

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

describe('redactPhones', () => {
  test.each([
    // E.164 with "+": the country code and the last two digits stay.
    ['+14155552671', '+1********71'],
    ['+44 7911 123456', '+44********56'],
    ["The 'To' number +1 415 555 2671 is not valid", "The 'To' number +1********71 is not valid"],
    ['+1 415 555 2671 and +44 7911 123456', '+1********71 and +44********56'],
    // Bare digits: no country code is known, so only the last two digits stay.
    ['4155552671', '***71'],
    ['14155552671', '***71'],
    ['447911123456789', '***89'],
    ['123456', '***56'],
    ['(415) 555-2671', '(***71'],
    // Five digits or fewer are not a phone number: error codes and counts stay readable.
    ['12345', '12345'],
    ['Error 21211: invalid', 'Error 21211: invalid'],
    ['timeout of 15000ms exceeded', 'timeout of 15000ms exceeded'],
    // Text without numbers is unchanged.
    ['', ''],
    ['service unavailable', 'service unavailable'],
    // Numbers inside URLs and JSON (Plivo echoes the request).
    [
      'https://api.plivo.com/v1/Account/MA1234/Message/?dst=14155552671&limit=20',
      'https://api.plivo.com/v1/Account/MA1234/Message/?dst=***71&limit=20',
    ],
    [
      '{"dst":"14155552671","src":"+14155550100","text":"hi"}',
      '{"dst":"***71","src":"+1********00","text":"hi"}',
    ],
    // A date is digits too: it is masked as well, the safe side.
    ['at 2024-05-01 12:00:00', 'at ***12:00:00'],
  ])('%j → %j', (text, redacted) => {
    expect(redactPhones(text)).toBe(redacted);
  });
});
