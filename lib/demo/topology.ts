// Where the demo runs: an array (group portal + member portals, each paced or shaped to 1 Gbit/s) and the two
// source addresses the initiator logs in from. The walkthrough only sees this, so the paced-loopback and the
// shaped-veth variants run the same steps.
import type { PathSpec } from '../initiator';
import type { Portal } from '../portal';

export interface DemoTopology {
  /** One line for step 1: what the array is and how its links are limited. */
  readonly description: string[];
  readonly iqn: string;
  readonly lun: number;
  readonly group: Portal;
  /** Member portals as "address:port". */
  readonly members: string[];
  /** One per path, in login order. */
  readonly paths: PathSpec[];
  /** How many sessions the array has now (undefined when it cannot be asked in-process). */
  sessionCount(): number | undefined;
  /** Stops the array and removes whatever the topology set up; safe to call twice. */
  close(): Promise<void>;
}
