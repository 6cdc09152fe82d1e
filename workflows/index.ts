// Workflow bundle entry: every workflow the worker registers is exported here.
export { orderConfirmationSms, statusQuery } from './order-confirmation';
export { consentEntity, consentChangeSignal } from './consent-entity';
export { venueNumberProvisioning, venueNumberRelease } from './venue-number-provisioning';
