// Loads the addon: build/Release in development, prebuilds/<platform>-<arch>/ when shipped. ISCSI_MPIO_ADDON names
// another build to load instead (a sanitizer build from `npm run build:asan`, say).
import load from 'node-gyp-build';
import { packageRoot } from './package-root';

// The typed shape of each part of the binding is declared beside its wrapper (lib/wire/*.ts, lib/offload/*.ts).
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export const native: any = process.env.ISCSI_MPIO_ADDON ? require(process.env.ISCSI_MPIO_ADDON) : load(packageRoot);
