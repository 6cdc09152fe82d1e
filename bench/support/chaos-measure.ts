/**
 * The chaos suite's verdict, by content: every text the provider fakes accepted is matched to the
 * order its text names (the template puts the OrderNumber after "your order "), then to the history
 * rows and claims that name its provider message id. Pure, so test/unit/bench can check it.
 */

export interface MeasuredOrder {
  orderId: string;
  /** Unique in the run and free of spaces, so a text names at most one order. */
  orderNumber: string;
  phone: string;
  /** First delivery of the event (for latency); absent when it was never delivered. */
  firstDeliveredAt?: number;
  /** The 200 to the customer's STOP. */
  stopAckAt?: number;
}

/** A message a provider fake accepted (whether or not its answer reached the worker). */
export interface ProviderText {
  provider: string;
  /** Twilio's sid, Plivo's message_uuid. */
  id: string;
  /** The recipient, any format: compared by digits. */
  to: string;
  text: string;
  at: number;
}

export interface HistoryRow {
  orderId: string;
  status: string;
  providerMessageId: string | null;
}

export interface ClaimRow {
  orderId: string;
  providerMessageId: string | null;
}

export interface ChaosMeasurement {
  /** History rows by status. */
  outcomes: Record<string, number>;
  ordersWithSeveralHistoryRows: number;
  /** Orders by how many accepted texts name them. */
  textsPerOrder: { '0': number; '1': number; '2+': number };
  /**
   * Orders whose event arrived while an earlier order of the same customer had no text yet: the
   * case ADR 0012's hold serialises (both unresolved at once, were it not for the hold).
   */
  contended: number;
  /** Orders more than one text names. */
  doubled: number;
  /** Orders whose `sent` history row or claim names a message whose text names another order. */
  wrongContent: number;
  /** Orders recorded `sent` that no text names (the customer never got their own confirmation). */
  sentWithoutText: number;
  /** Texts no history row or claim names, other than those of orders still open. */
  unreported: number;
  /** Texts accepted after the recipient's acknowledged STOP (per phone: any order of that customer). */
  afterStop: number;
  /** First delivery of the event → the first text naming the order, per order that has one. */
  latenciesMs: number[];
  /** Order ids and message ids behind the non-zero counts, for the log. */
  examples: {
    doubled: string[];
    wrongContent: { orderId: string; messageId: string; textNames: string | null }[];
    sentWithoutText: string[];
    unreported: { messageId: string; to: string; textNames: string | null }[];
  };
}

/**
 * The OrderNumber a confirmation text names, or null: the whole word after "your order ", followed
 * by what the template puts next (domain/template.ts), so "your order is confirmed" names none.
 */
export function orderNumberIn(text: string): string | null {
  return /\byour order (\S+) (?:for |on |is confirmed)/.exec(text)?.[1] ?? null;
}

const digits = (phone: string) => phone.replace(/\D/g, '');
const EXAMPLES = 10;

export function measureChaos(input: {
  orders: readonly MeasuredOrder[];
  texts: readonly ProviderText[];
  history: readonly HistoryRow[];
  claims: readonly ClaimRow[];
  /** Orders not closed yet (still retrying): a text of theirs may not be reported yet. */
  openOrderIds?: ReadonlySet<string>;
}): ChaosMeasurement {
  const id = (orderId: string) => orderId.toLowerCase();
  const byNumber = new Map(input.orders.map((o) => [o.orderNumber, o]));
  const textsOf = new Map<string, ProviderText[]>();
  const textById = new Map<string, ProviderText>();
  for (const t of [...input.texts].sort((a, b) => a.at - b.at)) {
    textById.set(t.id, t);
    const order = byNumber.get(orderNumberIn(t.text) ?? '');
    if (order) textsOf.set(id(order.orderId), [...(textsOf.get(id(order.orderId)) ?? []), t]);
  }

  const outcomes: Record<string, number> = {};
  const historyOf = new Map<string, HistoryRow[]>();
  for (const row of input.history) {
    outcomes[row.status] = (outcomes[row.status] ?? 0) + 1;
    historyOf.set(id(row.orderId), [...(historyOf.get(id(row.orderId)) ?? []), row]);
  }

  const textsPerOrder = { '0': 0, '1': 0, '2+': 0 };
  const examples: ChaosMeasurement['examples'] = {
    doubled: [],
    wrongContent: [],
    sentWithoutText: [],
    unreported: [],
  };
  let doubled = 0;
  let sentWithoutText = 0;
  const latenciesMs: number[] = [];
  for (const o of input.orders) {
    const texts = textsOf.get(id(o.orderId)) ?? [];
    textsPerOrder[texts.length === 0 ? '0' : texts.length === 1 ? '1' : '2+']++;
    if (texts.length > 1) {
      doubled++;
      examples.doubled.push(o.orderId);
    }
    const sent = (historyOf.get(id(o.orderId)) ?? []).some((r) => r.status === 'sent');
    if (sent && texts.length === 0) {
      sentWithoutText++;
      examples.sentWithoutText.push(o.orderId);
    }
    if (texts.length > 0 && o.firstDeliveredAt !== undefined)
      latenciesMs.push(texts[0].at - o.firstDeliveredAt);
  }

  // What the service says each order sent: its `sent` history rows and its claim.
  const named = [
    ...input.history.filter((r) => r.status === 'sent'),
    ...input.claims.map((c) => ({ ...c, status: 'claim' })),
  ].filter((r): r is typeof r & { providerMessageId: string } => r.providerMessageId !== null);
  const wrong = new Map<string, { orderId: string; messageId: string; textNames: string | null }>();
  for (const r of named) {
    const text = textById.get(r.providerMessageId);
    if (!text) continue;
    const textNames = orderNumberIn(text.text);
    const owner = byNumber.get(textNames ?? '');
    if (owner && id(owner.orderId) === id(r.orderId)) continue;
    wrong.set(id(r.orderId), { orderId: r.orderId, messageId: r.providerMessageId, textNames });
  }
  examples.wrongContent = [...wrong.values()];

  // Any row naming the message reports it (a `duplicate` row names the claim's message too).
  const reported = new Set(
    [...input.history, ...input.claims].flatMap((r) => (r.providerMessageId ? [r.providerMessageId] : [])),
  );
  const open = new Set([...(input.openOrderIds ?? [])].map(id));
  let unreported = 0;
  for (const t of input.texts) {
    if (reported.has(t.id)) continue;
    const textNames = orderNumberIn(t.text);
    const owner = byNumber.get(textNames ?? '');
    if (owner && open.has(id(owner.orderId))) continue;
    unreported++;
    examples.unreported.push({ messageId: t.id, to: t.to, textNames });
  }

  let contended = 0;
  const ordersOf = new Map<string, MeasuredOrder[]>();
  for (const o of input.orders) ordersOf.set(digits(o.phone), [...(ordersOf.get(digits(o.phone)) ?? []), o]);
  for (const o of input.orders) {
    const arrived = o.firstDeliveredAt;
    if (arrived === undefined) continue;
    const busy = (ordersOf.get(digits(o.phone)) ?? []).some(
      (other) =>
        other !== o &&
        other.firstDeliveredAt !== undefined &&
        other.firstDeliveredAt < arrived &&
        (textsOf.get(id(other.orderId))?.[0]?.at ?? Infinity) > arrived,
    );
    if (busy) contended++;
  }

  let afterStop = 0;
  const stopped = new Map<string, number>();
  for (const o of input.orders) if (o.stopAckAt !== undefined) stopped.set(digits(o.phone), o.stopAckAt);
  for (const t of input.texts) {
    const ackAt = stopped.get(digits(t.to));
    if (ackAt !== undefined && t.at > ackAt) afterStop++;
  }

  for (const list of Object.values(examples)) list.splice(EXAMPLES);
  return {
    outcomes,
    ordersWithSeveralHistoryRows: [...historyOf.values()].filter((rows) => rows.length > 1).length,
    textsPerOrder,
    contended,
    doubled,
    wrongContent: wrong.size,
    sentWithoutText,
    unreported,
    afterStop,
    latenciesMs,
    examples,
  };
}
