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
