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
  /** The message id of the latest applied change, if it had one. */
  lastProviderMessageId: string | null;
  updatedAt: Date;
}

/** A change the consent workflow holds but has not written yet (dates as ISO strings, as in Temporal). */
export interface PendingConsentChange {
  status: ConsentStatus;
  source: ConsentSource;
  occurredAt: string;
  /** The change's de-duplication id: the provider's message id, or `api:<Idempotency-Key>`. */
  providerMessageId?: string;
}

export type ConsentDecision = 'applied' | 'duplicate' | 'stale';

/**
 * The one rule for a consent change, used by the repository's write and by every send decision's
 * fold, so the two never disagree:
 * - a change whose message id was handled before for this customer (the row's last one, or any the
 *   audit trail holds: `handled`) is a duplicate, whatever its date: a webhook replayed days later is
 *   dated on its new arrival, and must not undo the STOP that came in between;
 * - one older than the last applied change is stale: a late opt-in never undoes a STOP;
 * - anything else applies (the same instant included: a re-sent change lands where it was).
 */
export function decideConsentChange(
  current: Pick<StoredConsent, 'lastChangeAt' | 'lastProviderMessageId'> | null,
  change: { occurredAt: Date; providerMessageId?: string },
  handled: ReadonlySet<string> = new Set(),
): ConsentDecision {
  const id = change.providerMessageId;
  if (id !== undefined && (handled.has(id) || current?.lastProviderMessageId === id)) return 'duplicate';
  if (current && !(change.occurredAt.getTime() >= current.lastChangeAt.getTime())) return 'stale';
  return 'applied';
}

export interface AcknowledgedConsent extends StoredConsent {
  /** Whether some of it is not in SQL yet. */
  pending: boolean;
}

/**
 * The stored row with the pending changes applied in arrival order, exactly as the repository will
 * apply them (decideConsentChange). `handled` holds the pending changes' message ids the audit trail
 * already has. Null when neither knows the customer.
 */
export function foldPendingConsent(
  stored: StoredConsent | null,
  pending: readonly PendingConsentChange[],
  receivedAt: Date = new Date(),
  handled: ReadonlySet<string> = new Set(),
): AcknowledgedConsent | null {
  let state: AcknowledgedConsent | null = stored && { ...stored, pending: false };
  const seen = new Set(handled);
  for (const change of pending) {
    const occurredAt = new Date(change.occurredAt);
    const decision = decideConsentChange(
      state,
      { occurredAt, providerMessageId: change.providerMessageId },
      seen,
    );
    // The write records every change it sees in the audit trail, applied or not.
    if (change.providerMessageId !== undefined) seen.add(change.providerMessageId);
    if (decision !== 'applied') continue;
    state = {
      status: change.status,
      source: change.source,
      lastChangeAt: occurredAt,
      lastProviderMessageId: change.providerMessageId ?? null,
      updatedAt: receivedAt,
      pending: true,
    };
  }
  return state;
}

/**
 * Reads acknowledged consent: the pending changes, then which of their message ids the audit trail
 * has, then the row. The entity writes the row before the trail, so a change it writes meanwhile is
 * either missing from the trail read (and folds over a row that may hold it already: the same state
 * again) or in both reads; never in the trail read and missing from the row read, which would lose it.
 */
export async function readAcknowledgedConsent(sources: {
  pending(): Promise<readonly PendingConsentChange[]>;
  handled(messageIds: string[]): Promise<ReadonlySet<string>>;
  stored(): Promise<StoredConsent | null>;
}): Promise<AcknowledgedConsent | null> {
  const pending = await sources.pending();
  const ids = pending.flatMap((c) => (c.providerMessageId === undefined ? [] : [c.providerMessageId]));
  const handled = ids.length > 0 ? await sources.handled(ids) : new Set<string>();
  const stored = await sources.stored();
  return foldPendingConsent(stored, pending, new Date(), handled);
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
