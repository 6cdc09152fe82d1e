/**
 * Limits of the SQL columns values end up in, so validators at the door refuse what a column would
 * refuse later (after the order was acknowledged, or the SMS sent).
 */

/** `VenueID` is an `int` in every dialect. */
export const VENUE_ID_MAX = 2_147_483_647;

/**
 * The send activity's start-to-close timeout: every provider call of one attempt fits inside it,
 * and failover may not be configured shorter (it would switch while an attempt may still send).
 */
export const SEND_ATTEMPT_TIMEOUT_MS = 30_000;
