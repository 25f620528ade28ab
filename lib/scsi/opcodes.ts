// SCSI operation codes (SPC-4 / SBC-3) used by the initiator and the embedded target.
export const ScsiOp = {
  TEST_UNIT_READY: 0x00,
  REQUEST_SENSE: 0x03,
  READ_6: 0x08,
  WRITE_6: 0x0a,
  INQUIRY: 0x12,
  MODE_SELECT_6: 0x15,
  MODE_SENSE_6: 0x1a,
  START_STOP_UNIT: 0x1b,
  PREVENT_ALLOW_MEDIUM_REMOVAL: 0x1e,
  READ_CAPACITY_10: 0x25,
  READ_10: 0x28,
  WRITE_10: 0x2a,
  WRITE_AND_VERIFY_10: 0x2e,
  VERIFY_10: 0x2f,
  SYNCHRONIZE_CACHE_10: 0x35,
  WRITE_SAME_10: 0x41,
  UNMAP: 0x42,
  MODE_SELECT_10: 0x55,
  MODE_SENSE_10: 0x5a,
  READ_16: 0x88,
  WRITE_16: 0x8a,
  WRITE_AND_VERIFY_16: 0x8e,
  VERIFY_16: 0x8f,
  SYNCHRONIZE_CACHE_16: 0x91,
  WRITE_SAME_16: 0x93,
  SERVICE_ACTION_IN_16: 0x9e,
  REPORT_LUNS: 0xa0,
  MAINTENANCE_IN: 0xa3,
  MAINTENANCE_OUT: 0xa4,
  READ_12: 0xa8,
  WRITE_12: 0xaa,
  WRITE_AND_VERIFY_12: 0xae,
  VERIFY_12: 0xaf,
} as const;

/** Service actions of SERVICE ACTION IN(16) (0x9e). */
export const ServiceActionIn = { READ_CAPACITY_16: 0x10 } as const;
/** Service actions of MAINTENANCE IN (0xa3). */
export const MaintenanceIn = { REPORT_TARGET_PORT_GROUPS: 0x0a, REPORT_SUPPORTED_OPERATION_CODES: 0x0c } as const;

/** VPD page codes (SPC-4 §7.8, SBC-3 §6.5). */
export const VpdPage = {
  SUPPORTED_PAGES: 0x00,
  UNIT_SERIAL_NUMBER: 0x80,
  DEVICE_IDENTIFICATION: 0x83,
  BLOCK_LIMITS: 0xb0,
  BLOCK_DEVICE_CHARACTERISTICS: 0xb1,
  LOGICAL_BLOCK_PROVISIONING: 0xb2,
} as const;

/** Mode page codes (SPC-4 §7.5, SBC-3 §6.4). */
export const ModePage = {
  READ_WRITE_ERROR_RECOVERY: 0x01,
  DISCONNECT_RECONNECT: 0x02,
  CACHING: 0x08,
  CONTROL: 0x0a,
  INFORMATIONAL_EXCEPTIONS: 0x1c,
  ALL: 0x3f,
} as const;
