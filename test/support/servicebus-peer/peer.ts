import type { AddressInfo, Server, Socket } from 'node:net';
import {
  create_container,
  generate_uuid,
  message as amqp,
  uuid_to_string,
  type Connection,
  type Delivery,
  type EventContext,
  type Message,
  type Receiver,
  type Sender,
} from 'rhea';
import {
  DEAD_LETTER_CONDITION,
  EntityQueue,
  LOCK_LOST,
  LOCK_LOST_CONDITION,
  outcomeState,
  type Outcome,
  type PeerMessage,
  type SubscriptionOptions,
} from './entities';

/**
 * An in-process AMQP 1.0 peer that the real @azure/service-bus client talks to over plain TCP
 * (`UseDevelopmentEmulator=true`). It implements the slice of Service Bus the bridge uses: CBS,
 * topics fanning out to subscriptions, peekLock delivery with lock tokens, settlement, lock renewal
 * and expiry, MaxDeliveryCount and the dead-letter queue. Entity names are matched case-insensitively.
 */

export interface ServiceBusPeerOptions {
  topics: Record<string, { subscriptions: Record<string, SubscriptionOptions> }>;
}

export interface ServiceBusPeer {
  readonly port: number;
  readonly connectionString: string;
  /** Messages not completed yet (waiting, locked or deferred). */
  activeCount(topic: string, subscription: string): number;
  /** The messages of a subscription that are not completed yet, in sequence-number order. */
  activeMessages(topic: string, subscription: string): PeerMessage[];
  /** Messages sitting in `<subscription>/$DeadLetterQueue`. */
  deadLetters(topic: string, subscription: string): PeerMessage[];
  /** Messages completed (or received in receiveAndDelete mode) from the subscription. */
  completed(topic: string, subscription: string): PeerMessage[];
  /** Every AMQP connection the peer currently has open (handy to assert clients closed theirs). */
  connectionCount(): number;
  stop(): Promise<void>;
}

/** Body format of a batch: each data section holds one encoded AMQP message. */
const BATCH_FORMAT = 0x80013700;

interface Topic {
  subscriptions: Map<string, { active: EntityQueue; deadLetter: EntityQueue }>;
}

export async function startServiceBusPeer(options: ServiceBusPeerOptions): Promise<ServiceBusPeer> {
  const topics = new Map<string, Topic>();
  const queues = new Map<string, EntityQueue>(); // by lower-cased address
  for (const [topicName, topic] of Object.entries(options.topics)) {
    const subs = new Map<string, { active: EntityQueue; deadLetter: EntityQueue }>();
    for (const [subName, subOptions] of Object.entries(topic.subscriptions)) {
      let sequence = 0; // per subscription; a dead-lettered message keeps its number
      const next = (): number => ++sequence;
      const address = `${topicName}/Subscriptions/${subName}`;
      const deadLetter = new EntityQueue(`${address}/$DeadLetterQueue`, subOptions, next);
      const active = new EntityQueue(address, subOptions, next, deadLetter);
      subs.set(subName.toLowerCase(), { active, deadLetter });
      queues.set(active.address.toLowerCase(), active);
      queues.set(deadLetter.address.toLowerCase(), deadLetter);
    }
    topics.set(topicName.toLowerCase(), { subscriptions: subs });
  }

  const consumers = new Map<Sender, EntityQueue>();
  const connections = new Set<Connection>();

  const container = create_container({
    id: 'servicebus-peer',
    // Settlement is ours to decide: never auto-settle, and keep abandon (modified) apart from release.
    sender_options: { autosettle: false, treat_modified_as_released: false },
    // The SDK reads max_message_size from the attach to size batches.
    receiver_options: { autoaccept: false, credit_window: 100, max_message_size: 1024 * 1024 },
  });

  container.on('connection_open', (ctx: EventContext) => connections.add(ctx.connection));

  container.on('sender_open', (ctx: EventContext) => {
    const sender = ctx.sender as Sender;
    const address = sender.source?.address ?? '';
    // Echo the terminus and the settle modes the client asked for (receiveAndDelete = pre-settled sends).
    sender.set_source({ address });
    sender.set_target({ address: sender.target?.address });
    const internals = sender as unknown as SenderInternals;
    internals.local.attach.snd_settle_mode = sender.snd_settle_mode;
    internals.local.attach.rcv_settle_mode = sender.rcv_settle_mode;
    // rhea echoes a drain only while credit is left. When transfers in flight already used it up the drain
    // must still be echoed, or receiveMessages() times out and closes the link (returning its locks).
    const drainWithCredit = internals._get_drain.bind(sender);
    internals._get_drain = () => drainWithCredit() || (internals._draining && internals.credit === 0);
    if (address === '$cbs' || address.endsWith('/$management')) return; // reply links
    const queue = queues.get(address.toLowerCase());
    if (!queue) {
      sender.close({
        condition: 'amqp:not-found',
        description: `The messaging entity '${address}' could not be found.`,
      });
      return;
    }
    consumers.set(sender, queue);
    queue.addConsumer(sender);
  });

  container.on('receiver_open', (ctx: EventContext) => {
    const receiver = ctx.receiver as Receiver;
    const address = receiver.target?.address ?? '';
    receiver.set_target({ address });
    receiver.set_source({ address: receiver.source?.address });
    if (address === '$cbs' || address.endsWith('/$management') || topics.has(address.toLowerCase())) return;
    receiver.close({
      condition: 'amqp:not-found',
      description: `The messaging entity '${address}' could not be found.`,
    });
  });

  container.on('sendable', (ctx: EventContext) => consumers.get(ctx.sender as Sender)?.pump());
  // receiveMessages() drains leftover credit when it is done. Answer by giving the credit back without
  // sending: the SDK stops listening as soon as the drain is echoed, so a message sent now would be
  // locked but never seen (real Service Bus can do that too; the peer keeps tests deterministic).
  container.on('sender_draining', (ctx: EventContext) => (ctx.sender as Sender).set_drained(true));

  // Dispositions from receivers (peekLock settlement).
  const onOutcome = (ctx: EventContext): void => {
    const delivery = ctx.delivery as Delivery;
    const queue = consumers.get(ctx.sender as Sender);
    if (queue) queue.settleDelivery(delivery, toOutcome(delivery.remote_state));
    else if (!delivery.settled) delivery.update(true, outcomeState('rejected', { error: LOCK_LOST }));
  };
  for (const event of ['accepted', 'rejected', 'released', 'modified']) container.on(event, onOutcome);

  // Transfers from senders: entity messages, CBS and management requests.
  container.on('message', (ctx: EventContext) => {
    const receiver = ctx.receiver as Receiver;
    const delivery = ctx.delivery as Delivery;
    const address = receiver.target?.address ?? '';
    try {
      if (address === '$cbs') {
        reply(ctx, ctx.message as Message, 200, 'OK');
      } else if (address.endsWith('/$management')) {
        management(ctx, address.slice(0, -'/$management'.length));
      } else {
        const topic = topics.get(address.toLowerCase());
        if (!topic) throw new Error(`unknown entity ${address}`);
        const format = (ctx as EventContext & { format?: number }).format;
        for (const msg of unpack(ctx.message as Message | Buffer, format)) {
          if (msg.message_id == null) msg.message_id = generate_uuid(); // Service Bus always has one
          for (const { active } of topic.subscriptions.values()) active.enqueue({ ...msg });
        }
      }
      delivery.update(true, outcomeState('accepted'));
    } catch (err) {
      delivery.update(
        true,
        outcomeState('rejected', { error: { condition: 'amqp:internal-error', description: String(err) } }),
      );
    }
  });

  /** `$management` requests for `<entityPath>/$management`. */
  function management(ctx: EventContext, entityPath: string): void {
    const request = ctx.message as Message;
    const operation = String(request.application_properties?.operation ?? '');
    const queue = queues.get(entityPath.toLowerCase());
    if (!queue) return reply(ctx, request, 404, `The messaging entity '${entityPath}' could not be found.`);
    const body = (request.body ?? {}) as Record<string, unknown>;
    const tokens = ((body['lock-tokens'] as Buffer[] | undefined) ?? []).map((b) => uuid_to_string(b));
    if (operation === 'com.microsoft:renew-lock') {
      const expirations = tokens.map((t) => queue.renewLock(t));
      if (expirations.some((e) => e === undefined)) {
        return reply(ctx, request, 410, 'The lock supplied is invalid.', undefined, LOCK_LOST_CONDITION);
      }
      return reply(ctx, request, 200, 'OK', { expirations });
    }
    if (operation === 'com.microsoft:update-disposition') {
      const outcome = dispositionOutcome(body);
      if (!outcome)
        return reply(ctx, request, 400, `Unsupported disposition-status ${body['disposition-status']}`);
      if (!tokens.every((t) => queue.settleByToken(t, outcome))) {
        return reply(ctx, request, 410, 'The lock supplied is invalid.', undefined, LOCK_LOST_CONDITION);
      }
      return reply(ctx, request, 200, 'OK', {});
    }
    // Anything else (peek, schedule, deferred receive, rules, sessions) fails fast instead of timing out.
    return reply(ctx, request, 501, `servicebus-peer does not implement '${operation}'`);
  }

  const closeConsumers = (matches: (link: Sender) => boolean): void => {
    for (const [link, queue] of consumers) {
      if (!matches(link)) continue;
      consumers.delete(link);
      queue.removeConsumer(link);
    }
  };
  const onLinkGone = (ctx: EventContext): void => closeConsumers((l) => l === ctx.sender);
  const onSessionGone = (ctx: EventContext): void => closeConsumers((l) => l.session === ctx.session);
  const onConnectionGone = (ctx: EventContext): void => {
    connections.delete(ctx.connection);
    closeConsumers((l) => l.connection === ctx.connection);
  };
  container.on('sender_close', onLinkGone);
  container.on('sender_error', onLinkGone);
  container.on('session_close', onSessionGone);
  container.on('session_error', onSessionGone);
  container.on('connection_close', onConnectionGone);
  container.on('connection_error', onConnectionGone);
  container.on('disconnected', onConnectionGone);
  container.on('receiver_error', () => undefined);
  // rhea re-emits unhandled link errors as 'error' on the container; a client error must not crash the test.
  container.on('error', () => undefined);

  const server = container.listen({ port: 0, host: '127.0.0.1' }) as unknown as Server;
  const sockets = new Set<Socket>();
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', reject);
  });
  const port = (server.address() as AddressInfo).port;

  const subscription = (topic: string, sub: string): { active: EntityQueue; deadLetter: EntityQueue } => {
    const found = topics.get(topic.toLowerCase())?.subscriptions.get(sub.toLowerCase());
    if (!found) throw new Error(`servicebus-peer: no subscription ${topic}/${sub}`);
    return found;
  };

  return {
    port,
    connectionString:
      `Endpoint=sb://127.0.0.1:${port};SharedAccessKeyName=RootManageSharedAccessKey;` +
      'SharedAccessKey=SAS_KEY_VALUE;UseDevelopmentEmulator=true',
    activeCount: (topic, sub) => subscription(topic, sub).active.activeCount(),
    activeMessages: (topic, sub) => subscription(topic, sub).active.messages(),
    deadLetters: (topic, sub) => subscription(topic, sub).deadLetter.messages(),
    completed: (topic, sub) => subscription(topic, sub).active.completedMessages(),
    connectionCount: () => connections.size,
    async stop() {
      for (const queue of queues.values()) queue.stop();
      for (const connection of connections) connection.close();
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** rhea sender state the typings do not expose: the attach it will send and the drain/credit bookkeeping. */
interface SenderInternals {
  local: { attach: { snd_settle_mode?: number; rcv_settle_mode?: number } };
  credit: number;
  _draining: boolean;
  _get_drain(): boolean;
}

/** Reply on the link the client named in reply_to (the CBS receiver's name, the management receiver's target). */
function reply(
  ctx: EventContext,
  request: Message,
  status: number,
  description: string,
  body?: unknown,
  condition?: string,
): void {
  const replyTo = request.reply_to;
  const link = ctx.connection.find_sender((s: Sender) => s.name === replyTo || s.target?.address === replyTo);
  if (!link) return;
  const properties: Record<string, unknown> = { 'status-code': status, 'status-description': description };
  if (condition) properties['error-condition'] = condition;
  link.send({ to: replyTo, correlation_id: request.message_id, application_properties: properties, body });
}

/** Single messages arrive decoded; a batch arrives raw and holds one encoded message per data section. */
function unpack(payload: Message | Buffer, format: number | undefined): Message[] {
  if (!Buffer.isBuffer(payload)) return [payload];
  if (format !== BATCH_FORMAT) throw new Error(`unsupported message format ${format}`);
  const envelope = amqp.decode(payload);
  const section = envelope.body as { content: Buffer | Buffer[]; multiple?: boolean };
  const parts = Array.isArray(section.content) ? section.content : [section.content];
  return parts.map((part) => amqp.decode(part) as unknown as Message);
}

function toOutcome(state: unknown): Outcome {
  const s = state as {
    constructor: { composite_type?: string };
    error?: { condition?: string; info?: Record<string, unknown> };
    undeliverable_here?: boolean;
    message_annotations?: Record<string, unknown>;
  };
  switch (s?.constructor?.composite_type) {
    case 'accepted':
      return { type: 'accepted' };
    case 'rejected':
      // deadLetterMessage(): condition com.microsoft:dead-letter, info { DeadLetterReason, DeadLetterErrorDescription, ... }
      return { type: 'rejected', condition: s.error?.condition, info: { ...s.error?.info } };
    case 'modified':
      // abandon(): undeliverable_here false; defer(): true. Annotations are the propertiesToModify.
      return {
        type: 'modified',
        undeliverableHere: Boolean(s.undeliverable_here),
        annotations: { ...s.message_annotations },
      };
    default:
      return { type: 'released' };
  }
}

/** update-disposition's disposition-status values (see ManagementClient.updateDispositionStatus). */
function dispositionOutcome(body: Record<string, unknown>): Outcome | undefined {
  const props = (body['properties-to-modify'] ?? {}) as Record<string, unknown>;
  switch (body['disposition-status']) {
    case 'completed':
      return { type: 'accepted' };
    case 'abandoned':
      return { type: 'modified', undeliverableHere: false, annotations: props };
    case 'defered': // sic, the SDK's spelling
      return { type: 'modified', undeliverableHere: true, annotations: props };
    case 'suspended':
      return {
        type: 'rejected',
        condition: DEAD_LETTER_CONDITION,
        info: {
          ...props,
          DeadLetterReason: body['deadletter-reason'],
          DeadLetterErrorDescription: body['deadletter-description'],
        },
      };
    default:
      return undefined;
  }
}
