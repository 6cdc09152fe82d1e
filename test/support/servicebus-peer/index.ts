export { startServiceBusPeer, type ServiceBusPeer, type ServiceBusPeerOptions } from './peer';
export type { PeerMessage, SubscriptionOptions } from './entities';
