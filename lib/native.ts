// Loads the addon: build/Release in development, prebuilds/<platform>-<arch>/ when shipped.
import load from 'node-gyp-build';
import { packageRoot } from './package-root';

// The typed shape of each part of the binding is declared beside its wrapper (lib/wire/*.ts, lib/offload/*.ts).
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export const native: any = load(packageRoot);
