import {
  CONSENT_CHANGE_OUTCOMES,
  CONSENT_SOURCES,
  CONSENT_STATUSES,
  HISTORY_STATUSES,
  PROVIDER_NAMES,
  VENUE_NUMBER_STATUSES,
} from '../domain/enums';

/**
 * Enum rows carry fixed ids (seeded by the first migration in the domain's order, 1-based), so
 * repositories map names to ids without a lookup query. A test checks the seeded rows against this.
 */
function enumIds<T extends string>(names: readonly T[]) {
  return {
    id: (name: T): number => names.indexOf(name) + 1,
    name: (id: number): T => {
      const name = names[id - 1];
      if (name === undefined) throw new Error(`unknown enum id ${id}`);
      return name;
    },
    names,
  };
}

export const ProviderNameIds = enumIds(PROVIDER_NAMES);
export const VenueNumberStatusIds = enumIds(VENUE_NUMBER_STATUSES);
export const ConsentStatusIds = enumIds(CONSENT_STATUSES);
export const ConsentSourceIds = enumIds(CONSENT_SOURCES);
export const HistoryStatusIds = enumIds(HISTORY_STATUSES);
export const ConsentChangeOutcomeIds = enumIds(CONSENT_CHANGE_OUTCOMES);

export const ENUM_TABLE_IDS = {
  ProviderNames: ProviderNameIds,
  VenuePhoneNumberStatuses: VenueNumberStatusIds,
  SmsConsentStatuses: ConsentStatusIds,
  ConsentSources: ConsentSourceIds,
  SmsSendHistoryStatuses: HistoryStatusIds,
  SmsConsentChangeOutcomes: ConsentChangeOutcomeIds,
} as const;
