// The embedded target's logical units (SBC disk emulation); the target calls these, no iSCSI in here.
export * from './types';
export * from './backing-store';
export * from './memory-store';
export * from './file-store';
export * from './identity';
export * from './sense-data';
export * from './unit-attention';
export * from './logical-unit';
export * from './absent-lu';
export { reportLunsData } from './report-luns-data';
export { SUPPORTED_COMMANDS } from './opcode-table';
