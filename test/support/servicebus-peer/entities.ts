import {
  generate_uuid,
  message as amqp,
  string_to_uuid,
  types,
  type Delivery,
  type Message,
  type Sender,
} from 'rhea';

/**
 * The in-memory side of the Service Bus peer: one `EntityQueue` per subscription (and one per dead-letter
 * queue). It knows nothing about sockets; peer.ts hands it sender links, deliveries and settlement outcomes.
 */

export interface SubscriptionOptions {
  /** A message is dead-lettered once it has been delivered (and not completed) this many times. Default 10. */
  maxDeliveryCount?: number;
  /** How long a peekLock delivery stays locked before it returns to the queue. Default 30 s. */
  lockDurationMs?: number;
}

/** A message as the tests see it. */
export interface PeerMessage {
  messageId: string | number | Buffer | undefined;
  body: unknown;
  applicationProperties: Record<string, unknown>;
  sequenceNumber: number;
  enqueuedTime: Date;
  /** Failed deliveries so far (the `delivery_count` header the next delivery would carry). */
  deliveryCount: number;
  /** Set while the message is locked by a peekLock receiver. */
  lockedUntil?: Date;
  /** DeadLetterReason / DeadLetterErrorDescription, for dead-lettered messages. */
  reason?: string;
  description?: string;
}

interface Entry {
  message: Message;
  sequenceNumber: number;
  enqueuedTime: Date;
  deliveryCount: number;
}

interface Lock {
  token: string;
  entry: Entry;
  link: Sender;
  lockedUntil: Date;
  timer: NodeJS.Timeout;
}

/** What the client did with a delivery, as rhea reports it (the remote_state of the delivery). */
export type Outcome =
  | { type: 'accepted' }
  | { type: 'released' }
  | { type: 'modified'; undeliverableHere: boolean; annotations: Record<string, unknown> }
  | { type: 'rejected'; condition?: string; info: Record<string, unknown> };

/** rhea builds delivery states with message.accepted() and friends; its typings leave them out. */
type OutcomeFactory = (fields?: object) => { described(): unknown };
const outcomeFactories = amqp as unknown as Record<Outcome['type'], OutcomeFactory>;
export function outcomeState(type: Outcome['type'], fields?: object): unknown {
  return outcomeFactories[type](fields).described();
}

export const DEAD_LETTER_CONDITION = 'com.microsoft:dead-letter';
export const LOCK_LOST_CONDITION = 'com.microsoft:message-lock-lost';
/** What Service Bus answers when a delivery's lock expired or was released: the SDK throws MessageLockLost. */
export const LOCK_LOST = { condition: LOCK_LOST_CONDITION, description: 'The lock supplied is invalid.' };

/**
 * The SDK builds the lock token from the delivery tag by flipping the first three GUID groups (.NET byte
 * order, see reorderLockToken in @azure/service-bus). The flip is its own inverse, so we pick the token first
 * and derive the tag from it; the renew-lock and update-disposition requests then carry that same token.
 */
function tagForLockToken(token: string): Buffer {
  const b = string_to_uuid(token);
  return Buffer.from([b[3], b[2], b[1], b[0], b[5], b[4], b[7], b[6], ...b.subarray(8)]);
}

/** Data sections carry the SDK's JSON-encoded body; decode them so tests can compare plain values. */
export function decodeBody(body: unknown): unknown {
  const section = body as { typecode?: number; content?: unknown } | undefined;
  if (section && section.typecode === 0x75 && Buffer.isBuffer(section.content)) {
    const text = section.content.toString('utf8');
    try {
      return JSON.parse(text);
    } catch {
      return section.content;
    }
  }
  if (section && section.typecode !== undefined && 'content' in section) return section.content;
  return body;
}

export class EntityQueue {
  private readonly available: Entry[] = [];
  private readonly locks = new Map<string, Lock>();
  private readonly lockByDelivery = new WeakMap<Delivery, string>();
  private readonly deferred: Entry[] = [];
  private readonly consumers: Sender[] = [];
  private nextConsumer = 0;
  private readonly completed: Entry[] = [];
  readonly maxDeliveryCount: number;
  readonly lockDurationMs: number;

  constructor(
    readonly address: string,
    options: SubscriptionOptions,
    private readonly nextSequenceNumber: () => number,
    /** Absent for a dead-letter queue itself: Service Bus never dead-letters out of a DLQ. */
    readonly deadLetterQueue?: EntityQueue,
  ) {
    this.maxDeliveryCount = deadLetterQueue ? (options.maxDeliveryCount ?? 10) : Number.POSITIVE_INFINITY;
    this.lockDurationMs = options.lockDurationMs ?? 30_000;
  }

  /** Messages not completed yet: waiting, locked or deferred. */
  activeCount(): number {
    return this.available.length + this.locks.size + this.deferred.length;
  }

  messages(): PeerMessage[] {
    const locked = [...this.locks.values()].map((l) => ({
      ...toPeerMessage(l.entry),
      lockedUntil: l.lockedUntil,
    }));
    return [...this.available, ...this.deferred]
      .map(toPeerMessage)
      .concat(locked)
      .sort((a, b) => a.sequenceNumber - b.sequenceNumber);
  }

  completedMessages(): PeerMessage[] {
    return this.completed.map(toPeerMessage);
  }

  enqueue(message: Message): void {
    this.insert({
      message,
      sequenceNumber: this.nextSequenceNumber(),
      enqueuedTime: new Date(),
      deliveryCount: 0,
    });
  }

  addConsumer(link: Sender): void {
    this.consumers.push(link);
    this.pump();
  }

  /** The link (or its session/connection) is gone: its locks are released at once, as a failed delivery. */
  removeConsumer(link: Sender): void {
    const i = this.consumers.indexOf(link);
    if (i >= 0) this.consumers.splice(i, 1);
    for (const lock of [...this.locks.values()]) if (lock.link === link) this.release(lock);
  }

  /** Hand out waiting messages to consumers that have credit, round robin. */
  pump(): void {
    let idle = 0;
    while (this.available.length > 0 && this.consumers.length > 0 && idle < this.consumers.length) {
      const link = this.consumers[this.nextConsumer++ % this.consumers.length];
      // A draining link gets its credit back instead of messages (see sender_draining in peer.ts).
      if (
        !link.is_open() ||
        creditLeft(link) <= 0 ||
        (link as unknown as { _draining?: boolean })._draining
      ) {
        idle++;
        continue;
      }
      idle = 0;
      this.deliver(link, this.available.shift() as Entry);
    }
  }

  private deliver(link: Sender, entry: Entry): void {
    const now = Date.now();
    const receiveAndDelete = link.snd_settle_mode === 1;
    const token = generate_uuid();
    const lockedUntil = new Date(receiveAndDelete ? now : now + this.lockDurationMs);
    const wire: Message = {
      ...entry.message,
      delivery_count: entry.deliveryCount,
      message_annotations: {
        ...entry.message.message_annotations,
        'x-opt-sequence-number': types.wrap_long(entry.sequenceNumber),
        'x-opt-enqueued-time': entry.enqueuedTime,
        'x-opt-locked-until': lockedUntil,
      },
    };
    const delivery = link.send(wire, tagForLockToken(token));
    if (receiveAndDelete) {
      // The link was attached with snd-settle-mode "settled": the delivery went out pre-settled.
      this.completed.push(entry);
      return;
    }
    const timer = setTimeout(() => this.release(lock), this.lockDurationMs).unref();
    const lock: Lock = { token, entry, link, lockedUntil, timer };
    this.locks.set(token, lock);
    this.lockByDelivery.set(delivery, token);
  }

  /** A disposition from the receiver link. Always answers with a settled disposition so the SDK resolves. */
  settleDelivery(delivery: Delivery, outcome: Outcome): void {
    const token = this.lockByDelivery.get(delivery);
    const lock = token === undefined ? undefined : this.locks.get(token);
    if (!lock) {
      delivery.update(true, outcomeState('rejected', { error: LOCK_LOST }));
      return;
    }
    this.applyOutcome(lock, outcome);
    // Echo the outcome without an error: an error in the state would make the SDK reject the settle promise.
    delivery.update(true, outcomeState(outcome.type, {}));
  }

  /** update-disposition over $management (used by the SDK when the receiving link is already closed). */
  settleByToken(token: string, outcome: Outcome): boolean {
    const lock = this.locks.get(token);
    if (!lock) return false;
    this.applyOutcome(lock, outcome);
    return true;
  }

  renewLock(token: string): Date | undefined {
    const lock = this.locks.get(token);
    if (!lock) return undefined;
    clearTimeout(lock.timer);
    lock.lockedUntil = new Date(Date.now() + this.lockDurationMs);
    lock.timer = setTimeout(() => this.release(lock), this.lockDurationMs).unref();
    return lock.lockedUntil;
  }

  deadLetter(entry: Entry, reason: string | undefined, description: string | undefined): void {
    const props: Record<string, unknown> = { ...entry.message.application_properties };
    if (reason != null) props.DeadLetterReason = reason;
    if (description != null) props.DeadLetterErrorDescription = description;
    entry.message = { ...entry.message, application_properties: props };
    if (this.deadLetterQueue) this.deadLetterQueue.insert(entry);
    else this.completed.push(entry); // dead-lettering out of a DLQ: nowhere further to go
  }

  stop(): void {
    for (const lock of this.locks.values()) clearTimeout(lock.timer);
  }

  private applyOutcome(lock: Lock, outcome: Outcome): void {
    switch (outcome.type) {
      case 'accepted':
        this.unlock(lock);
        this.completed.push(lock.entry);
        return;
      case 'released':
        this.release(lock);
        return;
      case 'modified':
        mergeProperties(lock.entry, outcome.annotations);
        if (outcome.undeliverableHere) {
          // defer: kept aside; fetching deferred messages by sequence number is not implemented
          this.unlock(lock);
          this.deferred.push(lock.entry);
        } else {
          this.release(lock);
        }
        return;
      case 'rejected': {
        const { DeadLetterReason, DeadLetterErrorDescription, ...rest } = outcome.info;
        mergeProperties(lock.entry, rest);
        this.unlock(lock);
        this.deadLetter(
          lock.entry,
          optionalString(DeadLetterReason),
          optionalString(DeadLetterErrorDescription),
        );
        return;
      }
    }
  }

  private unlock(lock: Lock): void {
    clearTimeout(lock.timer);
    this.locks.delete(lock.token);
  }

  /** Back to the queue as a failed delivery (abandon, lock expiry, link loss), or to the DLQ when used up. */
  private release(lock: Lock): void {
    if (!this.locks.has(lock.token)) return;
    this.unlock(lock);
    lock.entry.deliveryCount++;
    if (lock.entry.deliveryCount >= this.maxDeliveryCount) {
      this.deadLetter(
        lock.entry,
        'MaxDeliveryCountExceeded',
        `Message could not be consumed after ${this.maxDeliveryCount} delivery attempts.`,
      );
    } else {
      this.insert(lock.entry);
    }
  }

  /** Keep sequence-number order so a returned message is redelivered before newer ones. */
  private insert(entry: Entry): void {
    const at = this.available.findIndex((e) => e.sequenceNumber > entry.sequenceNumber);
    if (at < 0) this.available.push(entry);
    else this.available.splice(at, 0, entry);
    // Deliver on the next tick: callers (dispositions, timers) may still be inside rhea's frame processing.
    setImmediate(() => this.pump());
  }
}

/** rhea's outgoing session queue: deliveries from next_pending_delivery on are not transferred yet. */
interface OutgoingInternals {
  next_delivery_id: number;
  next_pending_delivery: number;
  deliveries: { by_id(id: number): { link: Sender } | undefined };
}

/**
 * Credit the receiver has left for new deliveries. rhea takes a delivery off `link.credit` only when
 * it writes the transfer (on a later tick), so deliveries queued by `send` in the meantime must be
 * counted here; otherwise one pump hands out every waiting message, the ones beyond the credit sit
 * in rhea's queue with their lock running, and expire (spending a delivery) before the client ever
 * sees them. Service Bus never sends beyond credit.
 */
function creditLeft(link: Sender): number {
  if (!link.sendable()) return 0;
  const outgoing = (link.session as unknown as { outgoing: OutgoingInternals }).outgoing;
  let queued = 0;
  for (let id = outgoing.next_pending_delivery; id < outgoing.next_delivery_id; id++)
    if (outgoing.deliveries.by_id(id)?.link === link) queued++;
  return (link as unknown as { credit: number }).credit - queued;
}

function optionalString(v: unknown): string | undefined {
  return v == null ? undefined : String(v);
}

function mergeProperties(entry: Entry, props: Record<string, unknown>): void {
  const defined = Object.entries(props).filter(([, v]) => v != null);
  if (defined.length === 0) return;
  entry.message = {
    ...entry.message,
    application_properties: { ...entry.message.application_properties, ...Object.fromEntries(defined) },
  };
}

function toPeerMessage(entry: Entry): PeerMessage {
  const props = { ...entry.message.application_properties } as Record<string, unknown>;
  return {
    messageId: entry.message.message_id,
    body: decodeBody(entry.message.body),
    applicationProperties: props,
    sequenceNumber: entry.sequenceNumber,
    enqueuedTime: entry.enqueuedTime,
    deliveryCount: entry.deliveryCount,
    reason: optionalString(props.DeadLetterReason),
    description: optionalString(props.DeadLetterErrorDescription),
  };
}
