import fs from 'node:fs';
import path from 'node:path';

// Sources run from lib/ (tsx) and compiled code from dist/lib/: the package root is whichever parent has package.json.
export const packageRoot = fs.existsSync(path.join(__dirname, '..', 'package.json'))
  ? path.join(__dirname, '..')
  : path.join(__dirname, '..', '..');

export const packageVersion: string = JSON.parse(fs.readFileSync(path.join(packageRoot, 'package.json'), 'utf8')).version;
