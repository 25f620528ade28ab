// The public API of iscsi-mpio (DESIGN.md "Library").
export * from './wire/bhs';
export * from './wire/opcodes';
