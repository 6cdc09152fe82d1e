/** Workflow ids are derived from business keys only, so a redelivered event finds its workflow. */
export function orderWorkflowId(orderId: string): string {
  return `order-sms-${orderId.toLowerCase()}`;
}

export function consentWorkflowId(venueId: number, e164Phone: string): string {
  return `consent-${venueId}-${e164Phone}`;
}

export function venueNumberWorkflowId(venueId: number, provider: string): string {
  return `venue-number-${venueId}-${provider}`;
}
