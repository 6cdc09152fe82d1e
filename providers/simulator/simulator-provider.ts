import { setTimeout as sleep } from 'node:timers/promises';
import { randomInt } from 'node:crypto';
import { SmsProviderError } from '../../domain/errors';
import type {
  AcceptedMessage,
  AcceptedMessageQuery,
  PurchasedNumber,
  SendRequest,
  SmsProvider,
} from '../sms-provider';
import { SimulatorStore, simulatorSid, type SimulatorFault } from './simulator-store';

export interface SimulatorOptions {
  store: SimulatorStore;
  /** Time the "provider" takes to answer; the message is already accepted while it runs. */
  latencyMs: number;
  /** Time a number purchase takes to answer; the number is already bought while it runs. */
  purchaseLatencyMs?: number;
  /** Share of sends answered with a 503 before anything is accepted. */
  failureRate: number;
  /** Recipients the simulator treats as opted out (21610) or invalid (21211), beside injected faults. */
  optedOutNumbers: readonly string[];
  invalidNumbers: readonly string[];
  /** Random draws, injectable so fault-rate behaviour is testable. */
  random?: () => number;
}

/**
 * The embedded default provider: Twilio-shaped ids and error codes, realistic latency, fault
 * injection, and a persistent record of every accepted message and purchased number.
 */
export class SimulatorProvider implements SmsProvider {
  readonly name = 'simulator' as const;
  private readonly random: () => number;

  constructor(private readonly options: SimulatorOptions) {
    this.random = options.random ?? Math.random;
  }

  async send(request: SendRequest): Promise<AcceptedMessage> {
    const fault = await this.faultFor(request.to);
    if (fault && fault !== 'accept_then_drop') throw faultError(fault);

    const accepted: AcceptedMessage = {
      providerMessageId: simulatorSid('SM'),
      status: 'queued',
      acceptedAt: new Date(),
    };
    await this.options.store.insertMessage({
      sid: accepted.providerMessageId,
      to: request.to,
      from: request.from,
      body: request.body,
      status: accepted.status,
      acceptedAt: accepted.acceptedAt,
    });
    // Accepted, then the answer is slow: an aborted caller stops waiting, as over a real socket.
    if (this.options.latencyMs > 0)
      await sleep(this.options.latencyMs, undefined, { signal: request.signal });
    if (fault === 'accept_then_drop') throw faultError('accept_then_drop');
    return accepted;
  }

  /** The earliest message with this text since `sentAfter` that no other order owns. */
  async findAcceptedMessage(query: AcceptedMessageQuery): Promise<AcceptedMessage | null> {
    query.signal?.throwIfAborted();
    const { to, from, body, sentAfter } = query;
    const candidates = await this.options.store.messages({ to, from, body, sentAfter });
    const claimed =
      candidates.length > 0 && query.claimedElsewhere
        ? await query.claimedElsewhere(candidates.map((m) => m.sid))
        : new Set<string>();
    const match = candidates.find((m) => !claimed.has(m.sid));
    return match
      ? { providerMessageId: match.sid, status: match.status, acceptedAt: match.acceptedAt }
      : null;
  }

  async buyNumber(request: { friendlyName: string; country: string }): Promise<PurchasedNumber> {
    if (request.country !== 'US') {
      throw new SmsProviderError(
        'Misconfiguration',
        '21452',
        `simulator has no numbers in ${request.country}`,
      );
    }
    // 628 is a real San Francisco area code; exchange 2xx-9xx keeps libphonenumber's validation happy.
    const phoneNumber = `+1628${randomInt(200, 1000)}${String(randomInt(0, 10000)).padStart(4, '0')}`;
    const number = {
      sid: simulatorSid('PN'),
      phoneNumber,
      friendlyName: request.friendlyName,
      status: 'owned' as const,
    };
    await this.options.store.insertNumber(number);
    if (this.options.purchaseLatencyMs) await sleep(this.options.purchaseLatencyMs);
    return { phoneNumber, providerId: number.sid, friendlyName: request.friendlyName };
  }

  async findOwnedNumber(friendlyName: string): Promise<PurchasedNumber | null> {
    const owned = (await this.options.store.numbers()).find(
      (n) => n.status === 'owned' && n.friendlyName === friendlyName,
    );
    return owned ? { phoneNumber: owned.phoneNumber, providerId: owned.sid, friendlyName } : null;
  }

  async releaseNumber(providerId: string): Promise<void> {
    await this.options.store.releaseNumber(providerId);
  }

  private async faultFor(to: string): Promise<SimulatorFault | null> {
    if (this.options.invalidNumbers.includes(to)) return 'invalid_phone';
    if (this.options.optedOutNumbers.includes(to)) return 'opted_out';
    const injected = await this.options.store.takeFault(to);
    if (injected) return injected;
    return this.random() < this.options.failureRate ? 'unavailable' : null;
  }
}

function faultError(fault: SimulatorFault): SmsProviderError {
  switch (fault) {
    case 'unavailable':
      return new SmsProviderError('ProviderUnavailable', '503', 'simulator: service unavailable', {
        httpStatus: 503,
      });
    case 'accept_then_drop':
      return new SmsProviderError(
        'ProviderUnavailable',
        '502',
        'simulator: connection dropped after accepting',
        {
          httpStatus: 502,
        },
      );
    case 'auth':
      return new SmsProviderError('ProviderAuth', '20003', 'simulator: authentication failed', {
        httpStatus: 401,
      });
    case 'rate_limited':
      return new SmsProviderError('RateLimited', '20429', 'simulator: too many requests', {
        httpStatus: 429,
      });
    case 'invalid_phone':
      return new SmsProviderError(
        'InvalidPhone',
        '21211',
        "simulator: the 'To' number is not a valid phone number",
        {
          httpStatus: 400,
        },
      );
    case 'opted_out':
      return new SmsProviderError(
        'OptedOut',
        '21610',
        'simulator: attempt to send to unsubscribed recipient',
        {
          httpStatus: 400,
        },
      );
  }
}
