/**
 * JSON schemas shared by several route groups. Fastify validates with them and @fastify/swagger
 * publishes them, so the contract at /docs is the one the server enforces.
 */
import { DELIVERY_STATUSES } from '../domain/delivery-status';
import { CONSENT_SOURCES, CONSENT_STATUSES, HISTORY_STATUSES, PROVIDER_NAMES } from '../domain/enums';

export const errorResponse = {
  $id: 'ErrorResponse',
  type: 'object',
  required: ['error', 'message'],
  properties: {
    error: { type: 'string', description: 'A stable machine-readable name, e.g. ValidationError.' },
    message: { type: 'string' },
    fields: {
      type: 'array',
      description: 'Every field in error, not only the first.',
      items: {
        type: 'object',
        required: ['field', 'message'],
        properties: { field: { type: 'string' }, message: { type: 'string' } },
      },
    },
  },
} as const;

export const historyRecord = {
  $id: 'HistoryRecord',
  type: 'object',
  properties: {
    id: { type: 'integer' },
    orderId: { type: 'string' },
    orderNumber: { type: ['string', 'null'] },
    venueId: { type: 'integer' },
    venuePhoneNumberId: { type: ['integer', 'null'] },
    customerId: { type: 'string' },
    customerPhoneNumber: { type: 'string' },
    message: { type: 'string' },
    provider: { type: 'string', enum: [...PROVIDER_NAMES] },
    status: { type: 'string', enum: [...HISTORY_STATUSES] },
    providerMessageId: { type: ['string', 'null'] },
    errorCode: { type: ['string', 'null'] },
    errorMessage: { type: ['string', 'null'] },
    correlationId: { type: ['string', 'null'] },
    createdAt: { type: 'string', format: 'date-time' },
    deliveryStatus: {
      anyOf: [{ type: 'string', enum: [...DELIVERY_STATUSES] }, { type: 'null' }],
      description: "From the provider's delivery callbacks; null until the first one.",
    },
    deliveryErrorCode: {
      type: ['string', 'null'],
      description: "The provider's error code for undelivered / failed.",
    },
    deliveryUpdatedAt: { type: ['string', 'null'], format: 'date-time' },
  },
} as const;

export const consentStatus = { type: 'string', enum: [...CONSENT_STATUSES] } as const;
export const consentSource = { type: 'string', enum: [...CONSENT_SOURCES] } as const;

/** Schemas referenced by `$ref` from route schemas; registered once with app.addSchema. */
export const sharedSchemas = [errorResponse, historyRecord];

export const errorRef = { $ref: 'ErrorResponse#' } as const;
export const bearerSecurity = [{ bearerAuth: [] }];
