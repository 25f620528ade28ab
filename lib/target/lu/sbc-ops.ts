// Operation codes only the embedded disk serves (SBC-4), beside the shared ones in lib/scsi/opcodes.
export const SbcOp = {
  PRE_FETCH_10: 0x34,
  READ_DEFECT_DATA_10: 0x37,
  COMPARE_AND_WRITE: 0x89,
  ORWRITE_16: 0x8b,
  PRE_FETCH_16: 0x90,
  READ_DEFECT_DATA_12: 0xb7,
} as const;

/** Service actions of SERVICE ACTION IN(16) beyond READ CAPACITY(16). */
export const SbcServiceActionIn = { GET_LBA_STATUS: 0x12 } as const;
