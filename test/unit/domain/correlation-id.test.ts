import { fitCorrelationId } from '../../../domain/correlation-id';
import { CORRELATION_ID_MAX } from '../../../domain/limits';

test.each([
  ['a GUID', '6f1c2b8e-9d7a-4c55-8a43-3f0e2d1c9b7a'],
  ['exactly the column width', 'c'.repeat(CORRELATION_ID_MAX)],
])('%s is kept as it is', (_name, id) => {
  expect(fitCorrelationId(id)).toBe(id);
});

test('a longer id is shortened deterministically, keeping its prefix searchable', () => {
  const serviceBusMax = `trace-${'a'.repeat(122)}`; // Service Bus allows 128 characters
  const fitted = fitCorrelationId(serviceBusMax);
  expect(fitted).toHaveLength(CORRELATION_ID_MAX);
  expect(fitted).toMatch(/^trace-a+~[0-9a-f]{16}$/);
  expect(fitCorrelationId(serviceBusMax)).toBe(fitted);
  // Ids that share the kept prefix stay distinct.
  expect(fitCorrelationId(`${serviceBusMax.slice(0, -1)}b`)).not.toBe(fitted);
  // Fitting is idempotent: a second door applying it changes nothing.
  expect(fitCorrelationId(fitted)).toBe(fitted);
});

test('never splits a surrogate pair', () => {
  const fitted = fitCorrelationId(`${'a'.repeat(82)}${'🎫'.repeat(20)}`);
  expect(fitted.length).toBeLessThanOrEqual(CORRELATION_ID_MAX);
  expect(fitted).toMatch(/^a{82}~[0-9a-f]{16}$/);
});
