import { classifyInboundText, type KeywordIntent, type KeywordRule } from '../../../domain/consent-keywords';
import type { ProviderName } from '../../../domain/enums';

type Row = [text: string, intent: KeywordIntent, rule: KeywordRule];

describe('classifyInboundText: what real customers text back', () => {
  const cases: Row[] = [
    // The standard keywords, as people actually type them.
    ['STOP', 'opt_out', 'keyword'],
    ['stop', 'opt_out', 'keyword'],
    ['  Stop. ', 'opt_out', 'keyword'],
    ['STOP!!!', 'opt_out', 'keyword'],
    ['"stop"', 'opt_out', 'keyword'],
    ['Stop 🙏', 'opt_out', 'keyword'],
    ['STOPALL', 'opt_out', 'keyword'],
    ['stop all', 'opt_out', 'keyword'],
    ['Stop-all', 'opt_out', 'keyword'],
    ['Unsubscribe', 'opt_out', 'keyword'],
    ['CANCEL', 'opt_out', 'keyword'],
    ['End', 'opt_out', 'keyword'],
    ['quit', 'opt_out', 'keyword'],
    ['Revoke', 'opt_out', 'keyword'],
    ['OPTOUT', 'opt_out', 'keyword'],
    ['opt out', 'opt_out', 'keyword'],
    ['Opt-out', 'opt_out', 'keyword'],
    ['ＳＴＯＰ', 'opt_out', 'keyword'], // full-width letters from some phone keyboards
    // Invisible characters inside a word: the phone shows STOP, so it is STOP.
    ['S\u200BTOP', 'opt_out', 'keyword'],
    ['ST\u200COP', 'opt_out', 'keyword'],
    ['STO\u200DP', 'opt_out', 'keyword'],
    ['S\u2060TOP', 'opt_out', 'keyword'],
    ['\uFEFFSTOP', 'opt_out', 'keyword'],
    ['UN\u00ADSUB\u00ADSCRIBE', 'opt_out', 'keyword'],
    ['S\u3164TOP', 'opt_out', 'keyword'], // a Hangul filler: a "letter" that draws nothing
    ['\u202ESTOP', 'opt_out', 'keyword'],
    ['stop\u200B texting me', 'opt_out', 'phrase'],
    // Case folded whatever the keyboard's language: the Turkish capital İ, the dotless ı, accents.
    ['QUİT', 'opt_out', 'keyword'],
    ['quıt', 'opt_out', 'keyword'],
    ['UNSUBSCRİBE', 'opt_out', 'keyword'],
    ['ＱＵＩＴ', 'opt_out', 'keyword'],
    ['Stöp', 'opt_out', 'keyword'],
    ['S\u0336T\u0336O\u0336P\u0336', 'opt_out', 'keyword'], // "strikethrough text" generators
    ['İNFO', 'help', 'keyword'],
    // Greek and Cyrillic look-alikes, for opt-out only: "SТОР" with Cyrillic Т, О, Р.
    ['SТОР', 'opt_out', 'keyword'],
    ['ЅΤΟΡ', 'opt_out', 'keyword'],
    ['qυit', 'opt_out', 'keyword'],
    ['СТОП', 'none', 'none'], // Russian for stop: a language we do not read (the provider may)
    ['УЕЅ', 'none', 'none'],
    // A keyword with politeness around it.
    ['Stop please', 'opt_out', 'keyword'],
    ['please unsubscribe', 'opt_out', 'keyword'],
    ['Cancel pls', 'opt_out', 'keyword'],
    ['End, thank you', 'opt_out', 'keyword'],
    ['ok STOP now', 'opt_out', 'keyword'],
    // Short messages that plainly ask to stop.
    ['Stop texting me', 'opt_out', 'phrase'],
    ['Please stop sending me these messages', 'opt_out', 'phrase'],
    ['stop msging me!!', 'opt_out', 'phrase'],
    ['cancel these texts', 'opt_out', 'phrase'],
    ['End my subscription', 'opt_out', 'phrase'],
    ['I want to unsubscribe', 'opt_out', 'phrase'],
    ['unsubscribe me from this list', 'opt_out', 'phrase'],
    ['How do I opt out of these?', 'opt_out', 'phrase'],
    ['Remove me', 'opt_out', 'phrase'],
    ['please take me off your list', 'opt_out', 'phrase'],
    ["Don't text me again", 'opt_out', 'phrase'],
    ['DO NOT CONTACT', 'opt_out', 'phrase'],
    ['no more texts', 'opt_out', 'phrase'],
    ['leave me alone', 'opt_out', 'phrase'],
    [
      'I have asked three times already, please stop texting me, I never signed up for this',
      'opt_out',
      'phrase',
    ],
    ['opt me out', 'opt_out', 'phrase'],
    ['Please opt my number out', 'opt_out', 'phrase'],
    ['unsub', 'opt_out', 'phrase'],
    ['UNSUB pls', 'opt_out', 'phrase'],
    ['un-sub', 'opt_out', 'phrase'],
    ['unsubcribe', 'opt_out', 'phrase'], // the typos of a careless thumb
    ['unsuscribe me', 'opt_out', 'phrase'],
    ['unsubscibe', 'opt_out', 'phrase'],
    ['I unsubscribed already', 'opt_out', 'phrase'],
    ['remove my number', 'opt_out', 'phrase'],
    ['Please delete my number from your list', 'opt_out', 'phrase'],
    ['remove this number', 'opt_out', 'phrase'],
    ['take my number off your list', 'opt_out', 'phrase'],
    ['Wrong number', 'opt_out', 'phrase'],
    ['Wrong number. Who is this? Please stop', 'opt_out', 'phrase'],
    ['you have the wrong person', 'opt_out', 'phrase'],
    ['Stop it', 'opt_out', 'short_stop'],
    ['STOP STOP STOP', 'opt_out', 'short_stop'],
    ['stop this please', 'opt_out', 'short_stop'],
    ['who is this? stop', 'opt_out', 'short_stop'],
    // A longer message with a stop in one of its sentences or clauses.
    ['I never signed up for this. STOP', 'opt_out', 'keyword'],
    ['I never signed up for any of this!!\nstop', 'opt_out', 'keyword'],
    ["Hi, I don't know who you are or how you got this number, stop", 'opt_out', 'keyword'],
    ['I have no idea what this is; end', 'opt_out', 'keyword'],
    ['No idea who this is or why I get these 🙄 quit', 'opt_out', 'keyword'],
    ['I never asked for any of these - stop it', 'opt_out', 'short_stop'],
    ['Who is this?\nQuit', 'opt_out', 'keyword'],
    ["Loved the show. Don't stop!", 'opt_out', 'short_stop'], // rule 5 in a sentence, as "Don't stop" alone
    // Spelled out.
    ['S.T.O.P', 'opt_out', 'keyword'],
    ['s t o p', 'opt_out', 'keyword'],
    ['Q-U-I-T please', 'opt_out', 'keyword'],
    // When in doubt we stop: short messages with STOP in them, even if a person would read them otherwise.
    ["Don't stop", 'opt_out', 'short_stop'],
    ['Non-stop fun!', 'opt_out', 'short_stop'],
    // Opt-in: only the keyword alone.
    ['START', 'opt_in', 'keyword'],
    ['start.', 'opt_in', 'keyword'],
    ['Yes', 'opt_in', 'keyword'],
    ['YES!', 'opt_in', 'keyword'],
    ['unstop', 'opt_in', 'keyword'],
    ['yes please', 'none', 'none'],
    ['Start sending me updates again', 'none', 'none'],
    ['Yes I will be there', 'none', 'none'],
    // Invisible characters are dropped for opt-in too, but a letter with a mark is another letter.
    ['STA\u200BRT', 'opt_in', 'keyword'],
    // An opt-out anywhere wins, and anything beside an opt-in keyword makes it no opt-in.
    ['START. STOP', 'opt_out', 'short_stop'],
    ['stop\nstart', 'opt_out', 'short_stop'],
    ['START!! Actually no, I never signed up for this. Cancel', 'opt_out', 'keyword'],
    ['Yes. Start', 'none', 'none'],
    ['Yes!\nYes!', 'none', 'none'],
    ['Y E S', 'none', 'none'],
    ['start\n', 'opt_in', 'keyword'],
    ['yés', 'none', 'none'],
    ['YES\u0332', 'none', 'none'],
    ['Y\u0336E\u0336S\u0336', 'none', 'none'],
    // Twilio does not re-subscribe on Plivo's extra keywords.
    ['RESUME', 'none', 'none'],
    ['Go', 'none', 'none'],
    // Help: no consent change.
    ['HELP', 'help', 'keyword'],
    ['help?', 'help', 'keyword'],
    ['Info', 'help', 'keyword'],
    ['help please', 'help', 'keyword'],
    ['help me find my tickets', 'none', 'none'],
    // Everything else changes nothing.
    ['Thanks!', 'none', 'none'],
    ['', 'none', 'none'],
    ['   ', 'none', 'none'],
    ['👍', 'none', 'none'],
    ['What time does the show end?', 'none', 'none'],
    ['Can I cancel my order?', 'none', 'none'],
    ['I quit my job to see this band lol', 'none', 'none'],
    ['Where is the nearest bus stop to the venue?', 'none', 'none'],
    ['Is there a bus stop?', 'none', 'none'], // five words: past the short-message rule
    ['Stopping by the box office later', 'none', 'none'],
    ['Can you send me the tickets again', 'none', 'none'],
    ['That was an unsubtle hint about the encore', 'none', 'none'],
    ['Can I opt in or out of the newsletter later?', 'none', 'none'],
    ['Can you remove my plus one from the order?', 'none', 'none'],
    ['Wrong venue on my tickets?', 'none', 'none'],
    ['I will not stop coming to your shows', 'none', 'none'], // eight words: no phrase, no short STOP
    ['Great night. I will not stop coming to your shows!', 'none', 'none'],
    ['Is there a bus stop near the venue? Thanks', 'none', 'none'],
    ['What time does it end? See you there', 'none', 'none'],
    ['I quit my job. See you Friday', 'none', 'none'],
    ['Stop by the box office, ask for Sam', 'none', 'none'],
    ['Help. Where is my order?', 'none', 'none'], // HELP counts only as the whole message
  ];

  test.each(cases)('%j → %s (%s)', (text, intent, rule) => {
    expect(classifyInboundText(text, 'twilio')).toEqual({ intent, rule });
  });
});

describe('provider-specific keywords and hints', () => {
  test.each<[string, ProviderName, KeywordIntent]>([
    ['RESUME', 'plivo', 'opt_in'],
    ['go', 'plivo', 'opt_in'],
    ['GO!', 'plivo', 'opt_in'],
    ['RESUME', 'twilio', 'none'],
    ['go', 'simulator', 'none'],
    ['STOP', 'plivo', 'opt_out'],
    ['stop', 'simulator', 'opt_out'],
  ])('%j at %s → %s', (text, provider, intent) => {
    expect(classifyInboundText(text, provider).intent).toBe(intent);
  });

  test("Twilio's OptOutType wins over the text", () => {
    // Advanced Opt-Out with custom keywords: Twilio decided, and its block list follows that decision.
    expect(classifyInboundText('ARRET', 'twilio', { twilioOptOutType: 'STOP' })).toEqual({
      intent: 'opt_out',
      rule: 'provider',
    });
    expect(classifyInboundText('stop texting me', 'twilio', { twilioOptOutType: 'START' }).intent).toBe(
      'opt_in',
    );
    expect(classifyInboundText('aide', 'twilio', { twilioOptOutType: 'help' }).intent).toBe('help');
    // Blank or unknown values are no decision: the text decides.
    expect(classifyInboundText('stop', 'twilio', { twilioOptOutType: '' })).toEqual({
      intent: 'opt_out',
      rule: 'keyword',
    });
    expect(classifyInboundText('hello', 'twilio', { twilioOptOutType: 'SOMETHING' }).intent).toBe('none');
  });

  test("Plivo's MessageIntent wins over the text", () => {
    expect(classifyInboundText('BAJA', 'plivo', { plivoMessageIntent: 'optout' })).toEqual({
      intent: 'opt_out',
      rule: 'provider',
    });
    expect(classifyInboundText('whatever', 'plivo', { plivoMessageIntent: 'optin' }).intent).toBe('opt_in');
    expect(classifyInboundText('?', 'plivo', { plivoMessageIntent: 'HELP' }).intent).toBe('help');
    expect(classifyInboundText('stop', 'plivo', { plivoMessageIntent: '' }).intent).toBe('opt_out');
  });
});
