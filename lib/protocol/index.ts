// The protocol layer's public surface: text keys, negotiation, CHAP, discovery text, login state machines.
export * from './errors';
export * from './text';
export * from './keys';
export * from './negotiation';
export * from './chap';
export * from './discovery-text';
export * from './login-status';
export * from './isid';
export * from './pdu';
export * from './initiator-login';
export * from './target-login';
