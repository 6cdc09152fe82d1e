/**
 * Consent as the service has acknowledged it. A change is acknowledged (answered 200/202) once it is
 * durable in its consent workflow, which writes it to SQL afterwards, maybe much later (database
 * down, backlog). Whoever decides about a send folds the acknowledged-but-unapplied changes over the
 * stored row with the same rules the database write uses, so the decision never waits for SQL.
 */
import type { ConsentSource, ConsentStatus } from './enums';

/** What the decision needs from the stored SmsConsent row. */
export interface StoredConsent {
  status: ConsentStatus;
  source: ConsentSource | null;
  /** When the latest applied change happened at its source; older changes are stale. */
  lastChangeAt: Date;
  updatedAt: Date;
}

/** A change the consent workflow holds but has not written yet (dates as ISO strings, as in Temporal). */
export interface PendingConsentChange {
  status: ConsentStatus;
  source: ConsentSource;
  occurredAt: string;
}

export interface AcknowledgedConsent extends StoredConsent {
  /** Whether some of it is not in SQL yet. */
  pending: boolean;
}

/**
 * The stored row with the pending changes applied in arrival order, exactly as the repository will
 * apply them: a change older than the row's last change is stale and ignored (a late opt-in never
 * undoes a STOP). Null when neither knows the customer.
 */
export function foldPendingConsent(
  stored: StoredConsent | null,
  pending: readonly PendingConsentChange[],
  receivedAt: Date = new Date(),
): AcknowledgedConsent | null {
  let state: AcknowledgedConsent | null = stored && { ...stored, pending: false };
  for (const change of pending) {
    const occurredAt = new Date(change.occurredAt);
    if (state && !(occurredAt.getTime() >= state.lastChangeAt.getTime())) continue;
    state = {
      status: change.status,
      source: change.source,
      lastChangeAt: occurredAt,
      updatedAt: receivedAt,
      pending: true,
    };
  }
  return state;
}

/**
 * Reads acknowledged consent: the pending changes first, then the row. In that order a change the
 * workflow writes between the two reads is in the row; read the other way round it could be in
 * neither. A pending change that is also in the row folds to the same state again.
 */
export async function readAcknowledgedConsent(sources: {
  pending(): Promise<readonly PendingConsentChange[]>;
  stored(): Promise<StoredConsent | null>;
}): Promise<AcknowledgedConsent | null> {
  const pending = await sources.pending();
  const stored = await sources.stored();
  return foldPendingConsent(stored, pending);
}

/** How far ahead of our clock a change may claim to have happened (clock skew at the source). */
export const MAX_CONSENT_CLOCK_SKEW_MS = 5 * 60_000;

/**
 * Why an occurredAt cannot be acknowledged: it must be a real instant (JSON Schema's date-time
 * accepts a leap second such as 23:59:60Z, which no Date can hold) and not lie in the future, where
 * it would make every later real change look stale.
 */
export function occurredAtProblem(value: string, now: Date = new Date()): string | null {
  const at = new Date(value);
  if (Number.isNaN(at.getTime())) return 'is not a real instant';
  if (at.getTime() - now.getTime() > MAX_CONSENT_CLOCK_SKEW_MS)
    return 'lies more than 5 minutes in the future';
  return null;
}

/**
 * The instant a change is recorded with: its own, but never later than when we received it. A
 * source clock running ahead would otherwise make a real STOP that follows look older than the
 * change before it, and be ignored as stale; when in doubt, the later STOP must win.
 */
export function acknowledgedOccurredAt(value: string | undefined, receivedAt: Date = new Date()): string {
  const at = value === undefined ? receivedAt : new Date(value);
  return (at.getTime() > receivedAt.getTime() ? receivedAt : at).toISOString();
}
