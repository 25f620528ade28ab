// Answers for a LUN with no logical unit behind it (SPC-4 §6.6.2, SAM-5 §5.8.3): INQUIRY says "no device",
// REPORT LUNS still lists the target's LUNs, REQUEST SENSE reports nothing, everything else is 25/00.
import { ScsiOp } from '../../scsi/opcodes';
import { Asc, SenseKey } from '../../scsi/sense-codes';
import { absentLuInquiryData } from './inquiry-data';
import { reportLunsData } from './report-luns-data';
import { CheckCondition, checkCondition, fixedSense, good, invalidField } from './sense-data';
import type { ScsiResult } from './types';

export function executeWithoutLogicalUnit(cdb: Buffer, luns: readonly number[]): ScsiResult {
  try {
    switch (cdb[0]) {
      case ScsiOp.INQUIRY:
        if ((cdb[1] & 0x03) !== 0 || cdb[2] !== 0) throw invalidField((cdb[1] & 0x03) !== 0 ? 1 : 2);
        return good(absentLuInquiryData().subarray(0, cdb.readUInt16BE(3)));
      case ScsiOp.REPORT_LUNS:
        return good(reportLunsData(cdb, luns));
      case ScsiOp.REQUEST_SENSE:
        return good(fixedSense(SenseKey.ILLEGAL_REQUEST, Asc.LU_NOT_SUPPORTED).subarray(0, cdb[4]));
      default:
        return checkCondition(SenseKey.ILLEGAL_REQUEST, Asc.LU_NOT_SUPPORTED);
    }
  } catch (err) {
    if (err instanceof CheckCondition) return err.toResult();
    throw err;
  }
}
