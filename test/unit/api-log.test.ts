import { maskUrl } from '../../api/app';

test('request URLs in logs never carry a whole phone number', () => {
  expect(maskUrl('/api/consent/42/%2B14155552671')).toBe('/api/consent/42/***71');
  expect(maskUrl('/api/consent/42/+14155552671')).toBe('/api/consent/42/***71');
  expect(maskUrl('/api/history?phoneNumber=4155552671&venueId=42')).toBe(
    '/api/history?phoneNumber=***71&venueId=42',
  );
  expect(maskUrl('/api/orders/6f1c2b8e-9d7a-4c55-8a43-3f0e2d1c9b7a')).toBe(
    '/api/orders/6f1c2b8e-9d7a-4c55-8a43-3f0e2d1c9b7a',
  );
});

describe('maskUrl finds a number however it is written or encoded', () => {
  test.each([
    '/api/consent/42/415-867-5309',
    '/api/consent/42/415.867.5309',
    '/api/consent/42/415%20867%205309',
    '/api/consent/42/(415)%20867-5309',
    '/api/consent/42/%28415%29%20867-5309',
    '/api/consent/42/%2B1%20(415)%20867-5309',
    '/api/consent/42/%2B1%20%28415%29%20867-5309',
    '/api/consent/42/+1-415-867-5309',
    '/api/consent/42/415%2F867%2F5309', // an encoded slash is inside the segment
    '/api/consent/42/415%E2%80%8B867%E2%80%8B5309', // zero-width spaces
    '/api/consent/42/%E2%80%AD415%E2%80%93867%E2%80%935309', // a bidi control and en dashes
    '/api/consent/42/%34%31%35%38%36%37%35%33%30%39', // every digit an escape
    '/api/consent/42/415%E3%83%BC867%E3%83%BC5309', // the katakana long vowel mark libphonenumber reads as a dash
    '/api/consent/42/%2B1%C2%A0415%C2%A0867%C2%A05309', // no-break spaces
    '/api/consent/42/%EF%BC%94%EF%BC%91%EF%BC%95%EF%BC%98%EF%BC%96%EF%BC%97%EF%BC%95%EF%BC%93%EF%BC%90%EF%BC%99', // full-width digits
  ])('%s', (url) => {
    expect(maskUrl(url)).toBe('/api/consent/42/***09');
  });

  test.each([
    ['/api/history?phoneNumber=415-867-5309&venueId=42', '/api/history?phoneNumber=***09&venueId=42'],
    [
      '/api/history?phoneNumber=%2B1+%28415%29+867-5309&venueId=42',
      '/api/history?phoneNumber=***09&venueId=42',
    ],
    ['/api/history?phoneNumber=(415)%20867-5309', '/api/history?phoneNumber=***09'],
    [
      '/api/history?phoneNumber=%D9%A4%D9%A1%D9%A5%D9%A8%D9%A6%D9%A7%D9%A5%D9%A3%D9%A0%D9%A9',
      '/api/history?phoneNumber=***٠٩',
    ], // Arabic-Indic digits
    [
      '/api/history?venueId=42&phoneNumber=%2B44%207911%20123456',
      '/api/history?venueId=42&phoneNumber=***56',
    ],
    ['/api/history?phoneNumber=%E0%A4%A%2B14155552671', '/api/history?phoneNumber=%E0%A4%A***71'], // malformed UTF-8
    [
      '/api/history?phoneNumber=415-867-5309&from=2026-11-01T00:00:00Z',
      '/api/history?phoneNumber=***09&from=2026-11-01T00:00:00Z',
    ],
  ])('%s', (url, masked) => {
    expect(maskUrl(url)).toBe(masked);
  });
});

describe('maskUrl leaves ids, dates and small numbers readable, exactly as sent', () => {
  test.each([
    '/api/orders/6f1c2b8e-9d7a-4c55-8a43-312345678901',
    '/api/orders/12345678-1234-1234-1234-123456789012',
    '/api/venues/42/numbers',
    '/api/history?venueId=42&limit=100&offset=20000',
    '/api/history?venueId=42&from=2026-11-01T00:00:00Z&to=2026-11-30T23:59:59.999Z',
    '/api/history?venueId=42&from=2026-11-01T00%3A00%3A00%2B01%3A00&to=2026-11-30',
    '/api/history?from=2026-11-01%2010:00&month=2026-11',
    '/health/ready',
  ])('%s', (url) => {
    expect(maskUrl(url)).toBe(url);
  });
});
