// Sense keys and the additional sense codes (ASC/ASCQ) this project reports or acts on (SPC-4 §4.5.6, Annex D).

export const SenseKey = {
  NO_SENSE: 0x0,
  RECOVERED_ERROR: 0x1,
  NOT_READY: 0x2,
  MEDIUM_ERROR: 0x3,
  HARDWARE_ERROR: 0x4,
  ILLEGAL_REQUEST: 0x5,
  UNIT_ATTENTION: 0x6,
  DATA_PROTECT: 0x7,
  BLANK_CHECK: 0x8,
  VENDOR_SPECIFIC: 0x9,
  COPY_ABORTED: 0xa,
  ABORTED_COMMAND: 0xb,
  VOLUME_OVERFLOW: 0xd,
  MISCOMPARE: 0xe,
  COMPLETED: 0xf,
} as const;
export type SenseKeyCode = (typeof SenseKey)[keyof typeof SenseKey];

const SENSE_KEY_NAMES = [
  'NO SENSE', 'RECOVERED ERROR', 'NOT READY', 'MEDIUM ERROR', 'HARDWARE ERROR', 'ILLEGAL REQUEST',
  'UNIT ATTENTION', 'DATA PROTECT', 'BLANK CHECK', 'VENDOR SPECIFIC', 'COPY ABORTED', 'ABORTED COMMAND',
  'RESERVED (0xC)', 'VOLUME OVERFLOW', 'MISCOMPARE', 'COMPLETED',
];

export function senseKeyName(key: number): string {
  return SENSE_KEY_NAMES[key & 0xf];
}

/** ASC/ASCQ pairs as 16-bit numbers (asc << 8 | ascq), named for use on both sides. */
export const Asc = {
  NO_ADDITIONAL_SENSE: 0x0000,
  LU_NOT_READY_CAUSE_NOT_REPORTABLE: 0x0400,
  LU_BECOMING_READY: 0x0401,
  LU_NOT_READY_INITIALIZING_COMMAND_REQUIRED: 0x0402,
  LU_NOT_READY_MANUAL_INTERVENTION: 0x0403,
  LU_NOT_READY_OPERATION_IN_PROGRESS: 0x0407,
  LU_NOT_READY_ASYMMETRIC_ACCESS_TRANSITION: 0x040a,
  LU_NOT_READY_TARGET_PORT_STANDBY: 0x040b,
  LU_NOT_READY_TARGET_PORT_UNAVAILABLE: 0x040c,
  LU_COMMUNICATION_FAILURE: 0x0800,
  WRITE_ERROR: 0x0c00,
  INVALID_FIELD_IN_COMMAND_IU: 0x0e03,
  UNRECOVERED_READ_ERROR: 0x1100,
  PARAMETER_LIST_LENGTH_ERROR: 0x1a00,
  MISCOMPARE_DURING_VERIFY: 0x1d00,
  INVALID_COMMAND_OPERATION_CODE: 0x2000,
  LBA_OUT_OF_RANGE: 0x2100,
  INVALID_FIELD_IN_CDB: 0x2400,
  LU_NOT_SUPPORTED: 0x2500,
  INVALID_FIELD_IN_PARAMETER_LIST: 0x2600,
  WRITE_PROTECTED: 0x2700,
  POWER_ON_RESET_OR_BUS_DEVICE_RESET: 0x2900,
  POWER_ON_OCCURRED: 0x2901,
  SCSI_BUS_RESET_OCCURRED: 0x2902,
  BUS_DEVICE_RESET_FUNCTION_OCCURRED: 0x2903,
  DEVICE_INTERNAL_RESET: 0x2904,
  I_T_NEXUS_LOSS_OCCURRED: 0x2907,
  PARAMETERS_CHANGED: 0x2a00,
  MODE_PARAMETERS_CHANGED: 0x2a01,
  RESERVATIONS_PREEMPTED: 0x2a03,
  RESERVATIONS_RELEASED: 0x2a04,
  REGISTRATIONS_PREEMPTED: 0x2a05,
  ASYMMETRIC_ACCESS_STATE_CHANGED: 0x2a06,
  IMPLICIT_ASYMMETRIC_ACCESS_STATE_TRANSITION_FAILED: 0x2a07,
  CAPACITY_DATA_HAS_CHANGED: 0x2a09,
  COMMAND_SEQUENCE_ERROR: 0x2c00,
  SAVING_PARAMETERS_NOT_SUPPORTED: 0x3900,
  MEDIUM_NOT_PRESENT: 0x3a00,
  INQUIRY_DATA_HAS_CHANGED: 0x3f03,
  REPORTED_LUNS_DATA_HAS_CHANGED: 0x3f0e,
  INTERNAL_TARGET_FAILURE: 0x4400,
  SCSI_PARITY_ERROR: 0x4700,
  INITIATOR_DETECTED_ERROR: 0x4800,
  DATA_PHASE_ERROR: 0x4b00,
  OVERLAPPED_COMMANDS_ATTEMPTED: 0x4e00,
  INSUFFICIENT_RESOURCES: 0x5503,
} as const;

const ASC_TEXT: Record<number, string> = {
  0x0000: 'no additional sense information',
  0x0400: 'logical unit not ready, cause not reportable',
  0x0401: 'logical unit is in process of becoming ready',
  0x0402: 'logical unit not ready, initializing command required',
  0x0403: 'logical unit not ready, manual intervention required',
  0x0404: 'logical unit not ready, format in progress',
  0x0407: 'logical unit not ready, operation in progress',
  0x0408: 'logical unit not ready, long write in progress',
  0x0409: 'logical unit not ready, self-test in progress',
  0x040a: 'logical unit not accessible, asymmetric access state transition',
  0x040b: 'logical unit not accessible, target port in standby state',
  0x040c: 'logical unit not accessible, target port in unavailable state',
  0x0800: 'logical unit communication failure',
  0x0c00: 'write error',
  0x0e03: 'invalid field in command information unit',
  0x1100: 'unrecovered read error',
  0x1a00: 'parameter list length error',
  0x1d00: 'miscompare during verify operation',
  0x2000: 'invalid command operation code',
  0x2100: 'logical block address out of range',
  0x2101: 'invalid element address',
  0x2400: 'invalid field in CDB',
  0x2500: 'logical unit not supported',
  0x2600: 'invalid field in parameter list',
  0x2700: 'write protected',
  0x2900: 'power on, reset, or bus device reset occurred',
  0x2901: 'power on occurred',
  0x2902: 'SCSI bus reset occurred',
  0x2903: 'bus device reset function occurred',
  0x2904: 'device internal reset',
  0x2907: 'I_T nexus loss occurred',
  0x2a00: 'parameters changed',
  0x2a01: 'mode parameters changed',
  0x2a02: 'log parameters changed',
  0x2a03: 'reservations preempted',
  0x2a04: 'reservations released',
  0x2a05: 'registrations preempted',
  0x2a06: 'asymmetric access state changed',
  0x2a07: 'implicit asymmetric access state transition failed',
  0x2a09: 'capacity data has changed',
  0x2c00: 'command sequence error',
  0x3900: 'saving parameters not supported',
  0x3a00: 'medium not present',
  0x3e01: 'logical unit failure',
  0x3f01: 'microcode has been changed',
  0x3f03: 'inquiry data has changed',
  0x3f0e: 'reported LUNs data has changed',
  0x4400: 'internal target failure',
  0x4700: 'SCSI parity error',
  0x4800: 'initiator detected error message received',
  0x4b00: 'data phase error',
  0x4e00: 'overlapped commands attempted',
  0x5503: 'insufficient resources',
};

const ASC_FAMILY_TEXT: Record<number, string> = {
  0x04: 'logical unit not ready',
  0x29: 'power on or reset occurred',
  0x2a: 'parameters changed',
  0x3f: 'target operating conditions have changed',
};

/** Readable text for an ASC/ASCQ pair; unknown pairs show their hex so nothing is hidden. */
export function describeAsc(asc: number, ascq: number): string {
  const hex = `${hex2(asc)}/${hex2(ascq)}`;
  const text = ASC_TEXT[(asc << 8) | ascq] ?? ASC_FAMILY_TEXT[asc];
  return text ? `${text} (${hex})` : `ASC/ASCQ ${hex}`;
}

const hex2 = (n: number) => n.toString(16).padStart(2, '0');
