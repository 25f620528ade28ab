// Prometheus metrics of multipath devices (prom-client), per device and per path, named as Prometheus asks
// (iscsi_mpio_..._total for counters, base units: bytes, seconds). Counters and gauges are read from the paths'
// live counters when scraped, so the I/O path pays nothing for them; latency histograms are observed per completed
// I/O through PathStats.onCompleted. `serve --metrics` and device.metrics() use the same series.
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { MultipathDevice } from '../mpio/multipath-device';

const LATENCY_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

interface Entry { device: MultipathDevice; size: number; vendor: string; product: string }

export class MpioMetrics {
  private readonly devices = new Map<string, Entry>();
  private readonly latency: Histogram<'device' | 'path' | 'direction'>;

  constructor(readonly registry: Registry = new Registry()) {
    const devices = this.devices;
    const registers = [registry];
    const eachPath = (visit: (name: string, path: string, p: MultipathDevice['paths'][number]) => void) => {
      for (const [name, { device }] of devices) for (const p of device.paths) visit(name, String(p.id), p);
    };
    const counter = (name: string, help: string, labelNames: string[], read: (set: (labels: Record<string, string>, v: number) => void) => void) => new Counter({
      name, help, labelNames, registers,
      collect() { this.reset(); read((labels, v) => this.inc(labels, v)); },
    });
    const gauge = (name: string, help: string, labelNames: string[], read: (set: (labels: Record<string, string>, v: number) => void) => void) => new Gauge({
      name, help, labelNames, registers,
      collect() { this.reset(); read((labels, v) => this.set(labels, v)); },
    });

    gauge('iscsi_mpio_device_info', 'A served multipath device (value 1), with its LU identity', ['device', 'lu', 'vendor', 'product', 'policy'], (set) => {
      for (const [name, e] of devices) set({ device: name, lu: e.device.id ?? '', vendor: e.vendor, product: e.product, policy: e.device.policy.name }, 1);
    });
    gauge('iscsi_mpio_device_size_bytes', 'Size of the LU', ['device'], (set) => { for (const [name, e] of devices) set({ device: name }, e.size); });
    gauge('iscsi_mpio_device_usable_paths', 'Paths that can carry I/O now', ['device'], (set) => {
      for (const [name, e] of devices) set({ device: name }, e.device.paths.filter((p) => p.state !== 'failed').length);
    });
    counter('iscsi_mpio_device_ios_total', 'I/Os the device completed (on any path), by direction', ['device', 'direction'], (set) => {
      for (const [name, { device }] of devices) {
        const sum = (f: (s: ReturnType<MultipathDevice['paths'][number]['stats']['snapshot']>) => number) => device.paths.reduce((a, p) => a + f(p.stats.snapshot()), 0);
        set({ device: name, direction: 'read' }, sum((s) => s.reads));
        set({ device: name, direction: 'write' }, sum((s) => s.writes));
        set({ device: name, direction: 'other' }, sum((s) => s.others));
      }
    });
    counter('iscsi_mpio_device_bytes_total', 'Bytes the device moved (on any path), by direction', ['device', 'direction'], (set) => {
      for (const [name, { device }] of devices) {
        set({ device: name, direction: 'read' }, device.paths.reduce((a, p) => a + p.stats.bytesRead, 0));
        set({ device: name, direction: 'write' }, device.paths.reduce((a, p) => a + p.stats.bytesWritten, 0));
      }
    });
    counter('iscsi_mpio_path_ios_total', 'I/Os completed on the path, by direction', ['device', 'path', 'direction'], (set) => eachPath((device, path, p) => {
      set({ device, path, direction: 'read' }, p.stats.reads);
      set({ device, path, direction: 'write' }, p.stats.writes);
      set({ device, path, direction: 'other' }, p.stats.others);
    }));
    counter('iscsi_mpio_path_bytes_total', 'Bytes moved on the path, by direction', ['device', 'path', 'direction'], (set) => eachPath((device, path, p) => {
      set({ device, path, direction: 'read' }, p.stats.bytesRead);
      set({ device, path, direction: 'write' }, p.stats.bytesWritten);
    }));
    counter('iscsi_mpio_path_errors_total', 'I/Os that failed on the path because of the path (each was re-driven or reported)', ['device', 'path'], (set) => eachPath((device, path, p) => set({ device, path }, p.stats.failures)));
    counter('iscsi_mpio_path_failovers_total', 'Times the path went failed', ['device', 'path'], (set) => eachPath((device, path, p) => set({ device, path }, p.stats.failovers)));
    counter('iscsi_mpio_path_reinstatements_total', 'Times the path came back from failed', ['device', 'path'], (set) => eachPath((device, path, p) => set({ device, path }, p.stats.reinstatements)));
    gauge('iscsi_mpio_path_in_flight', 'I/Os outstanding on the path', ['device', 'path'], (set) => eachPath((device, path, p) => set({ device, path }, p.stats.inFlight)));
    gauge('iscsi_mpio_path_in_flight_bytes', 'Bytes of the I/Os outstanding on the path', ['device', 'path'], (set) => eachPath((device, path, p) => set({ device, path }, p.stats.inFlightBytes)));
    gauge('iscsi_mpio_path_state', 'The path\'s state: 1 for the state it is in, 0 for the others', ['device', 'path', 'state'], (set) => eachPath((device, path, p) => {
      for (const state of ['active', 'standby', 'failed']) set({ device, path, state }, p.state === state ? 1 : 0);
    }));
    this.latency = new Histogram({
      name: 'iscsi_mpio_path_io_duration_seconds', help: 'Completion time of the I/Os on the path, by direction',
      labelNames: ['device', 'path', 'direction'], buckets: LATENCY_BUCKETS, registers,
    });
  }

  /** Publishes `device` under the label device=`name` (replacing a device of that name). */
  async add(name: string, device: MultipathDevice): Promise<void> {
    const identity = await device.inquiry();
    const { blocks, blockSize } = await device.capacity();
    this.remove(name);
    this.devices.set(name, { device, size: blocks * blockSize, vendor: identity.vendor.trim(), product: identity.product.trim() });
    for (const p of device.paths) {
      const labels = { device: name, path: String(p.id) };
      // Published from the start (all zero), so a scrape before the first I/O already shows every series.
      for (const direction of ['read', 'write', 'other']) this.latency.zero({ ...labels, direction });
      // Per-direction children resolved once, so an observation is one call.
      const read = this.latency.labels({ ...labels, direction: 'read' });
      const write = this.latency.labels({ ...labels, direction: 'write' });
      const other = this.latency.labels({ ...labels, direction: 'other' });
      p.stats.onCompleted = (direction, _bytes, seconds) => (direction === 'read' ? read : direction === 'write' ? write : other).observe(seconds);
    }
  }

  remove(name: string): void {
    const e = this.devices.get(name);
    if (!e) return;
    this.devices.delete(name);
    for (const p of e.device.paths) {
      p.stats.onCompleted = undefined;
      for (const direction of ['read', 'write', 'other']) this.latency.remove({ device: name, path: String(p.id), direction });
    }
  }

  /** The text exposition format. */
  text(): Promise<string> { return this.registry.metrics(); }
}
