import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

/** Search attributes ops filter on in the Web UI (DESIGN.md, Workflows). Workflow-safe: no I/O. */
export const OrderIdKey = defineSearchAttributeKey('OrderId', SearchAttributeType.KEYWORD);
export const VenueIdKey = defineSearchAttributeKey('VenueId', SearchAttributeType.INT);
export const SmsOutcomeKey = defineSearchAttributeKey('SmsOutcome', SearchAttributeType.KEYWORD);
export const SmsProviderKey = defineSearchAttributeKey('SmsProvider', SearchAttributeType.KEYWORD);
export const SmsErrorCodeKey = defineSearchAttributeKey('SmsErrorCode', SearchAttributeType.KEYWORD);

/** Name → CLI type, as `temporal server start-dev --search-attribute Name=Type` wants them. */
export const SEARCH_ATTRIBUTE_CLI_TYPES: Record<string, 'Keyword' | 'Int'> = {
  OrderId: 'Keyword',
  VenueId: 'Int',
  SmsOutcome: 'Keyword',
  SmsProvider: 'Keyword',
  SmsErrorCode: 'Keyword',
};
