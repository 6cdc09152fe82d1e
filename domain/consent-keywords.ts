/**
 * What a customer's text back to a venue number means for their consent. Pure: the webhook route
 * calls it with the message text and whatever intent the provider already detected.
 * The rule and its cases are documented in docs/consent-keywords.md; the table test is
 * test/unit/domain/consent-keywords.test.ts.
 */
import type { ProviderName } from './enums';

export type KeywordIntent = 'opt_out' | 'opt_in' | 'help' | 'none';

/** Which rule decided: logged instead of the text, which never reaches a log. */
export type KeywordRule = 'provider' | 'keyword' | 'phrase' | 'short_stop' | 'none';

export interface KeywordClassification {
  intent: KeywordIntent;
  rule: KeywordRule;
}

export interface ProviderIntentHints {
  /** Twilio Advanced Opt-Out: `OptOutType` = STOP | START | HELP. */
  twilioOptOutType?: string;
  /** Plivo: `MessageIntent` = optout | optin | help (blank otherwise). */
  plivoMessageIntent?: string;
}

/** The carriers' and providers' standard keywords, compared with the whole (normalised) message. */
export const OPT_OUT_KEYWORDS = [
  'stop',
  'stopall',
  'stop all',
  'unsubscribe',
  'cancel',
  'end',
  'quit',
  'revoke',
  'optout',
  'opt out',
] as const;
export const OPT_IN_KEYWORDS = ['start', 'yes', 'unstop'] as const;
/** Plivo also re-subscribes on these; Twilio does not, so they stay Plivo's (see the doc). */
export const PLIVO_OPT_IN_KEYWORDS = ['resume', 'go'] as const;
export const HELP_KEYWORDS = ['help', 'info'] as const;

/**
 * Politeness and filler around an opt-out or help keyword ("stop please", "HELP me?" is not one: "me"
 * stays). Removing them never turns a message into an opt-in: opt-in needs the keyword alone.
 */
const FILLER = new Set([
  'please',
  'pls',
  'plz',
  'pleas',
  'thanks',
  'thank',
  'you',
  'thx',
  'ty',
  'now',
  'ok',
  'okay',
  'hi',
  'hey',
  'hello',
  'sorry',
  'just',
]);

/** Words that on their own, in a message of at most SHORT_WORDS words (after filler), mean stop. */
const STRONG_STOP_WORDS = new Set(['stop', 'stopall', 'unsubscribe', 'revoke', 'optout']);
const SHORT_WORDS = 4;

const MESSAGES =
  '(?:texts?|texting|txts?|txting|messages?|messaging|msgs?|msging|sms|notifications?|alerts?|subscription|sending|contacting|spam)';

/** Phrases that plainly ask to stop, at any length. Matched against the normalised text. */
const OPT_OUT_PHRASES: readonly RegExp[] = [
  // unsubscribe, unsub, un-sub, unsubscribed, and the thumb's typos: unsubcribe, unsuscribe, unsubscibe
  /\bun ?su(?:bs?|s)c?r?i?b?(?:e|ed|es|ing)?\b/,
  /\bopt ?out\b/,
  /\bopt (?:me|us|myself|(?:my|this|our) (?:number|phone|cell)) out\b/,
  // "stop texting me", "cancel these messages", "end my subscription", "quit sending me this"
  new RegExp(`\\b(?:stop|stopp|cancel|end|quit|halt)(?: \\w+){0,2} ${MESSAGES}\\b`),
  /\b(?:remove|delete|erase) (?:me|us|(?:my|this|our) (?:phone )?(?:number|phone|cell|contact|details|info))\b/,
  /\btake (?:me|us|(?:my|this|our) (?:phone )?number) off\b/,
  // The texts reach someone who never ordered: whatever else they say, stop.
  /\bwrong (?:number|person)\b/,
  /\bleave me alone\b/,
  /\b(?:dont|do not|never|no longer) (?:text|txt|message|msg|sms|contact|send)\b/,
  /\bno more (?:texts?|txts?|messages?|msgs?|sms)\b/,
];

/**
 * Characters that draw nothing: zero-width space and joiners, word joiner, byte-order mark, soft
 * hyphen, bidi controls, variation selectors, Hangul fillers. Inside a word they hide it from a word
 * match while the phone still shows the word ("S\u200BTOP" reads STOP), so they go before anything.
 */
const INVISIBLE = /[\p{Cf}\p{Default_Ignorable_Code_Point}]/gu;

/**
 * For opt-in, which must stay exact: invisible characters dropped, Unicode NFKC (full-width letters
 * fold), lower case, apostrophes dropped ("don't" → "dont"), every other run of non-letters/digits a
 * single space. A combining mark stays on its letter: "yés" is not "yes".
 */
export function normalizeKeywordText(text: string): string {
  return words(text.replace(INVISIBLE, '').normalize('NFKC').toLowerCase(), /[^\p{L}\p{M}\p{N}]+/gu);
}

/**
 * For opt-out and help, where a near miss should still count: as normalizeKeywordText, but accents
 * and other marks are removed after compatibility decomposition, so "QUİT" (whose lower case is
 * i + combining dot), "Stöp" and struck-through S̶T̶O̶P̶ all fold to plain letters, and the Turkish
 * dotless ı is read as i. Locale-independent: a Turkish phone's keyboard must not change the result.
 */
export function foldKeywordText(text: string): string {
  return words(fold(text), NON_WORD);
}

const NON_WORD = /[^\p{L}\p{N}]+/gu;

function fold(text: string): string {
  return text
    .replace(INVISIBLE, '')
    .normalize('NFKD')
    .toLowerCase()
    .replace(/\p{M}/gu, '')
    .replace(/ı/g, 'i')
    .replace(/[\u0370-\u052F]/g, (letter) => LATIN_LOOKALIKE.get(letter) ?? letter);
}

/**
 * The folded message cut into sentences and clauses, each normalised as foldKeywordText: at every
 * character that is not part of a word (punctuation, line breaks, emoji), apostrophes and hyphens
 * inside a word ("don't", "non-stop") excepted. "I never signed up for this, stop" ends in a clause
 * that is a keyword on its own; the whole message is too long for any rule.
 */
function clauses(folded: string): string[] {
  return folded
    .replace(/(?<=[\p{L}\p{N}])[-\u2010](?=[\p{L}\p{N}])/gu, ' ')
    .split(/[^\p{L}\p{N}\p{Zs}'’‘`]+/u)
    .map((clause) => words(clause, NON_WORD))
    .filter((clause) => clause !== '');
}

/**
 * Greek and Cyrillic letters (lower case, as folded) that print like a Latin one in at least one case:
 * "SТОР" with a Cyrillic Т, О and Р is the trick of someone testing whether we honour every STOP.
 * A Russian or Greek word rarely folds into an English keyword, and then the cost is a false opt-out.
 */
const LATIN_LOOKALIKE = new Map(
  [...'авсеһнікјмопрѕтухԁԛӏԝαβεηικμνορτυχζ'].map((letter, i): [string, string] => [
    letter,
    'abcehhikjmonpstyxdqlwabehikmnoptuxz'.charAt(i),
  ]),
);

function words(text: string, separator: RegExp): string {
  return text
    .replace(/['’‘`]/g, '')
    .replace(separator, ' ')
    .trim();
}

/**
 * Opt-out when in doubt, opt-in only when unmistakable:
 * 1. the provider's own detection (Twilio OptOutType, Plivo MessageIntent) wins when present;
 * 2. the whole message is a keyword (case, punctuation, surrounding spaces and invisible characters
 *    ignored; for opt-out and help also accents and look-alike letters);
 * 3. opt-out: the message without filler words is an opt-out keyword ("stop please"), also spelled
 *    out ("S.T.O.P");
 * 4. opt-out: it contains a phrase that plainly asks to stop ("stop texting me", "unsubscribe me");
 * 5. opt-out: at most four words (after filler) and one of them is STOP, UNSUBSCRIBE, REVOKE, OPTOUT;
 * 6. opt-out: rules 2 to 5 hold for one sentence or clause of the message ("Who is this?\nQuit");
 * 7. help: the message without filler words is HELP or INFO;
 * otherwise none. Opt-in never goes beyond rule 2, so an ambiguous text can never re-subscribe anyone.
 */
export function classifyInboundText(
  text: string,
  provider: ProviderName,
  hints: ProviderIntentHints = {},
): KeywordClassification {
  const fromProvider = providerIntent(hints);
  if (fromProvider) return { intent: fromProvider, rule: 'provider' };

  // The whole message first, so a rule that needs the whole (a phrase across a full stop, the
  // word count of rule 5) is the one named.
  const folded = fold(text);
  const whole = words(folded, NON_WORD);
  for (const candidate of [whole, ...clauses(folded)]) {
    const rule = optOutRule(candidate);
    if (rule) return { intent: 'opt_out', rule };
  }
  const optIn: readonly string[] =
    provider === 'plivo' ? [...OPT_IN_KEYWORDS, ...PLIVO_OPT_IN_KEYWORDS] : OPT_IN_KEYWORDS;
  if (optIn.includes(normalizeKeywordText(text))) return { intent: 'opt_in', rule: 'keyword' };
  if (isOneOf(withoutFiller(whole).join(' '), HELP_KEYWORDS)) return { intent: 'help', rule: 'keyword' };
  return { intent: 'none', rule: 'none' };
}

/** Rules 2 to 5 for one normalised text: the whole message or one of its clauses. */
function optOutRule(normalized: string): Exclude<KeywordRule, 'provider' | 'none'> | null {
  if (isOneOf(normalized, OPT_OUT_KEYWORDS)) return 'keyword';
  const kept = withoutFiller(normalized);
  if (isOneOf(kept.join(' '), OPT_OUT_KEYWORDS)) return 'keyword';
  // Letters spaced or dotted apart ("S.T.O.P") still spell the keyword to whoever reads them.
  if (kept.length > 1 && kept.every((w) => w.length === 1) && isOneOf(kept.join(''), OPT_OUT_KEYWORDS)) {
    return 'keyword';
  }
  if (OPT_OUT_PHRASES.some((phrase) => phrase.test(normalized))) return 'phrase';
  if (kept.length > 0 && kept.length <= SHORT_WORDS && kept.some((w) => STRONG_STOP_WORDS.has(w))) {
    return 'short_stop';
  }
  return null;
}

function withoutFiller(normalized: string): string[] {
  return normalized.split(' ').filter((w) => w !== '' && !FILLER.has(w));
}

function providerIntent(hints: ProviderIntentHints): KeywordIntent | null {
  const twilio = hints.twilioOptOutType?.trim().toUpperCase();
  if (twilio === 'STOP') return 'opt_out';
  if (twilio === 'START') return 'opt_in';
  if (twilio === 'HELP') return 'help';
  const plivo = hints.plivoMessageIntent?.trim().toLowerCase();
  if (plivo === 'optout') return 'opt_out';
  if (plivo === 'optin') return 'opt_in';
  if (plivo === 'help') return 'help';
  return null;
}

function isOneOf(value: string, list: readonly string[]): boolean {
  return list.includes(value);
}
