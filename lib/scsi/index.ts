// The SCSI layer for the initiator (DESIGN.md layer 4): CDB builders, response parsers, sense and ScsiError.
export * from './errors';
export * from './status';
export * from './opcodes';
export * from './sense-codes';
export * from './sense';
export * from './scsi-error';
export * from './commands';
export * from './inquiry';
export * from './vpd';
export * from './designators';
export * from './report-luns';
export * from './read-capacity';
export * from './alua';
export * from './mode-sense';
export * from './unmap';
