/**
 * Limits of the SQL columns values end up in, so validators at the door refuse what a column would
 * refuse later (after the order was acknowledged, or the SMS sent).
 */

/** `VenueID` is an `int` in every dialect. */
export const VENUE_ID_MAX = 2_147_483_647;
