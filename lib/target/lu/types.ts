// What the embedded target hands a logical unit and what it gets back. No iSCSI in here.

/** The target port a command arrived through: needed for VPD 0x83 port designators and ALUA. */
export interface PortIdentity {
  /** Relative target port identifier (1..65535), unique per target port. */
  relativeTargetPortId: number;
  /** The target port group this port belongs to. */
  targetPortGroupId: number;
  /** SCSI name of the target port, for iSCSI "<target-iqn>,t,0x<tpgt as 4 hex digits>". */
  targetPortName?: string;
  /** SCSI name of the target device (the target IQN). */
  targetName?: string;
}

export interface ScsiRequest {
  cdb: Buffer;
  /**
   * Data-Out payload as a scatter list, in order. Leave it out when the payload was already received straight
   * into the LU (see LogicalUnit.dataOutPlacement) and set dataOutPlaced.
   */
  dataOut?: readonly Buffer[];
  dataOutPlaced?: boolean;
  /**
   * iSCSI Expected Data Transfer Length. A write short of its CDB writes only the whole blocks it carries, and
   * COMPARE AND WRITE needs it to match the CDB; the target also uses it for residuals. Left out: the CDB rules.
   */
  expectedLength?: number;
  /** A key for the I_T nexus (e.g. initiator name + ISID + target port): unit attentions are queued per nexus. */
  nexus: string;
  port?: PortIdentity;
}

export interface ScsiResult {
  status: number;
  /**
   * Data-In as the command produced it (already cut to the CDB's allocation length). The target sends at most
   * the Expected Data Transfer Length and reports the residual. For reads from a memory LU it is a view of the
   * backing memory: send it before anything else writes those blocks.
   */
  data?: Buffer;
  /** Sense data (fixed format) with a CHECK CONDITION. */
  sense?: Buffer;
}

/** One ALUA target port group as the target configures it. */
export interface TargetPortGroupConfig {
  id: number;
  /** Asymmetric access state code (AluaStateCode in lib/scsi/alua). */
  state: number;
  preferred?: boolean;
  relativeTargetPorts: readonly number[];
  /** 0 none, 2 = implicitly changed (set it when the target changes the state). */
  statusCode?: number;
}
