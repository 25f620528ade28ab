// SCSI status codes (SAM-5 §5.3.1), carried in the iSCSI SCSI Response "Status" byte.
export const ScsiStatus = {
  GOOD: 0x00,
  CHECK_CONDITION: 0x02,
  CONDITION_MET: 0x04,
  BUSY: 0x08,
  RESERVATION_CONFLICT: 0x18,
  TASK_SET_FULL: 0x28,
  ACA_ACTIVE: 0x30,
  TASK_ABORTED: 0x40,
} as const;
export type ScsiStatusCode = (typeof ScsiStatus)[keyof typeof ScsiStatus];

const STATUS_NAMES: Record<number, string> = {
  0x00: 'GOOD', 0x02: 'CHECK CONDITION', 0x04: 'CONDITION MET', 0x08: 'BUSY', 0x18: 'RESERVATION CONFLICT',
  0x28: 'TASK SET FULL', 0x30: 'ACA ACTIVE', 0x40: 'TASK ABORTED',
};

export function statusName(status: number): string {
  return STATUS_NAMES[status] ?? `status 0x${status.toString(16).padStart(2, '0')}`;
}
